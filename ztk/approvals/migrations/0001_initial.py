"""Delegation moves from corrections to approvals; its table stays (no data moves)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Keep the delegation's permissions and admin history: its content type moves too."""
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="approvals", model="delegation").exists():
        content_type.objects.filter(app_label="corrections", model="delegation").update(
            app_label="approvals"
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # The table was created there (corrections_delegation); it stays, only the model moves.
        ("corrections", "0004_approval_action_reroute"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Delegation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("start", models.DateField(verbose_name="from")),
                        ("end", models.DateField(verbose_name="until")),
                        (
                            "reason",
                            models.CharField(
                                blank=True, default="", max_length=200, verbose_name="reason"
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="created at"),
                        ),
                        (
                            "approver",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="delegations_given",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="approver",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="created by",
                            ),
                        ),
                        (
                            "delegate",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="delegations_received",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="delegate",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "delegation",
                        "verbose_name_plural": "delegations",
                        "db_table": "corrections_delegation",
                        "ordering": ["-start", "pk"],
                        "indexes": [
                            models.Index(
                                fields=["delegate", "start", "end"],
                                name="corrections_delegat_eb4679_idx",
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("end__gte", models.F("start"))),
                                name="correction_delegation_dates",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("approver", models.F("delegate")), _negated=True
                                ),
                                name="correction_delegation_other",
                            ),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_type, migrations.RunPython.noop),
    ]
