"""Seed the work calendar with chinese-calendar's official data for 2004–2026.

Later package versions add years: run `ztk seed-calendar` after upgrading chinesecalendar.
No audit event here: the audit chain records what people and commands do, and this is
installation data (the `seed-calendar` command does record one).
"""

from django.db import migrations

FIRST_YEAR, LAST_YEAR = 2004, 2026


def seed(apps, schema_editor):
    from ztk.scheduling.calendar_data import seed_years

    seed_years(
        apps.get_model("scheduling", "WorkCalendarDay"),
        apps.get_model("scheduling", "CalendarYear"),
        FIRST_YEAR,
        LAST_YEAR,
    )


def unseed(apps, schema_editor):
    apps.get_model("scheduling", "WorkCalendarDay").objects.filter(source="seed").delete()
    apps.get_model("scheduling", "CalendarYear").objects.filter(status="seeded").delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
