"""Drop the one-column employee index of attendance days; the (employee, day) unique
constraint's index serves instead. By hand, so SQLite does not rebuild the table."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "attendance_attendanceday_employee_id_42e6ccf2"


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0001_initial"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="attendanceday",
                    name="employee",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="days",
                        to="org.employee",
                        verbose_name="employee",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    f'CREATE INDEX "{INDEX}" ON "attendance_attendanceday" ("employee_id")',
                ),
            ],
        ),
    ]
