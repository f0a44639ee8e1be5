"""Geofences get a code, an active flag and several groups (was one group each).

The data step keeps every existing link: a fence's group becomes its one entry in
``groups``, and each fence gets the code ``fence-<id>`` (HR may rename it on the page).
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


def forwards(apps, schema_editor):
    Geofence = apps.get_model("punches", "Geofence")
    for fence in Geofence.objects.all():
        fence.code = f"fence-{fence.pk}"
        fence.save(update_fields=["code"])
        if fence.group_id is not None:
            fence.groups.add(fence.group_id)


def backwards(apps, schema_editor):
    # Back to one group per fence: the first of its groups; a fence with none has no
    # place in the old schema and is removed.
    Geofence = apps.get_model("punches", "Geofence")
    for fence in Geofence.objects.all():
        first = fence.groups.order_by("pk").first()
        if first is None:
            fence.delete()
        else:
            fence.group_id = first.pk
            fence.save(update_fields=["group"])


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0001_initial"),
        ("punches", "0004_alter_punch_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="geofence",
            name="code",
            field=models.CharField(max_length=32, null=True, verbose_name="code"),
        ),
        migrations.AddField(
            model_name="geofence",
            name="active",
            field=models.BooleanField(default=True, verbose_name="active"),
        ),
        migrations.AddField(
            model_name="geofence",
            name="groups",
            field=models.ManyToManyField(
                blank=True,
                related_name="geofences",
                to="org.attendancegroup",
                verbose_name="attendance groups",
            ),
        ),
        # the old FK's reverse name clashes with the new field's until it is gone
        migrations.AlterField(
            model_name="geofence",
            name="group",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="org.attendancegroup",
                verbose_name="attendance group",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="geofence", name="group"),
        migrations.AlterField(
            model_name="geofence",
            name="code",
            field=models.CharField(
                max_length=32,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Za-z0-9_.-]{1,32}$", "Use 1–32 letters, digits, '_', '.' or '-'."
                    )
                ],
                verbose_name="code",
            ),
        ),
        migrations.AlterField(
            model_name="geofence",
            name="radius_m",
            field=models.PositiveIntegerField(
                default=200,
                validators=[
                    django.core.validators.MinValueValidator(10),
                    django.core.validators.MaxValueValidator(50000),
                ],
                verbose_name="radius (m)",
            ),
        ),
        migrations.AlterModelOptions(
            name="geofence",
            options={
                "ordering": ["code"],
                "verbose_name": "geofence",
                "verbose_name_plural": "geofences",
            },
        ),
    ]
