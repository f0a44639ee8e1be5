"""Drop the one-column employee index of punches; the (employee, at) index serves instead.

By hand: on SQLite Django's AlterField rebuilds the table, which would drop the
append-only triggers and copy every punch. Dropping the index alone changes no row.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "punches_punch_employee_id_4d386237"


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0001_initial"),
        ("punches", "0002_append_only_triggers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="punch",
                    name="employee",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="punches",
                        to="org.employee",
                        verbose_name="employee",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    f'CREATE INDEX "{INDEX}" ON "punches_punch" ("employee_id")',
                ),
            ],
        ),
    ]
