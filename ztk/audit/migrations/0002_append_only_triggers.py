from django.db import migrations

from ztk.core.db import append_only_migration


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [append_only_migration("audit_auditevent")]
