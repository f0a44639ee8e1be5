"""Delegation moved to the approvals app (state only: the table stays)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("corrections", "0004_approval_action_reroute"),
        ("approvals", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],  # the table is approvals.Delegation's now
            state_operations=[migrations.DeleteModel(name="Delegation")],
        ),
    ]
