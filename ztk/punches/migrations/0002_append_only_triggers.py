from django.db import migrations

from ztk.core.db import append_only_migration


class Migration(migrations.Migration):
    dependencies = [("punches", "0001_initial")]

    operations = [
        append_only_migration("punches_punch"),
        append_only_migration("punches_punchvoid"),
    ]
