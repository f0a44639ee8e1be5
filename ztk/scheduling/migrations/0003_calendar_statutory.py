"""Statutory holidays (法定节假日) on the work calendar (issue 15).

Every holiday already in the calendar — seeded, imported or entered by hand — is marked
statutory when the law makes its date a festival day (``scheduling.statutory``; the same
rule the seeding uses from now on); the other days off of a holiday period (调休 and 补假
days) stay non-statutory. No audit event: installation data, as in 0002. Stored attendance
days take the new category in attendance's 0006.
"""

from django.db import migrations, models

from ztk.scheduling.statutory import is_statutory


def mark(apps, schema_editor):
    day_model = apps.get_model("scheduling", "WorkCalendarDay")
    dates = [
        day
        for day in day_model.objects.filter(kind="holiday").values_list("date", flat=True)
        if is_statutory(day)
    ]
    for start in range(0, len(dates), 500):
        day_model.objects.filter(date__in=dates[start : start + 500]).update(statutory=True)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_seed_calendar")]

    operations = [
        migrations.AddField(
            model_name="workcalendarday",
            name="statutory",
            field=models.BooleanField(
                default=False,
                help_text="法定节假日: overtime pays 3×; other days off pay as rest days (2×).",
                verbose_name="statutory holiday",
            ),
        ),
        migrations.RunPython(mark, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="workcalendarday",
            constraint=models.CheckConstraint(
                condition=models.Q(("statutory", False), ("kind", "holiday"), _connector="OR"),
                name="calendar_statutory_is_holiday",
            ),
        ),
    ]
