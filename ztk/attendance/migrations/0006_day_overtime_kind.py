"""The overtime category of each stored day (issue 15): reports sum overtime by it.

Existing days take the category their kind gave until now (work → weekday, rest → rest,
holiday → holiday), so closed periods report what they reported. In periods still open,
a holiday the calendar does not call statutory (scheduling 0003) becomes a rest day (2×),
which is what a recompute would write: a holiday's overtime minutes do not depend on the
flag, only its category does. No audit event: derived data, as every recompute.
"""

from django.db import migrations, models

CHUNK = 500


def categorise(apps, schema_editor):
    day_model = apps.get_model("attendance", "AttendanceDay")
    period_model = apps.get_model("attendance", "AttendancePeriod")
    calendar = apps.get_model("scheduling", "WorkCalendarDay")
    day_model.objects.filter(kind="rest").update(overtime_kind="rest")
    day_model.objects.filter(kind="holiday").update(overtime_kind="holiday")
    statutory = set(calendar.objects.filter(statutory=True).values_list("date", flat=True))
    closed: dict[int, list[tuple]] = {}
    for group_id, start, end in period_model.objects.filter(status="closed").values_list(
        "group_id", "start", "end"
    ):
        closed.setdefault(group_id, []).append((start, end))
    moved = []
    rows = (
        day_model.objects.filter(kind="holiday")
        .values_list("pk", "day", "employee__attendance_group_id")
        .iterator(chunk_size=2000)
    )
    for pk, day, group_id in rows:
        if day in statutory:
            continue
        if any(start <= day <= end for start, end in closed.get(group_id, ())):
            continue
        moved.append(pk)
    for start in range(0, len(moved), CHUNK):
        day_model.objects.filter(pk__in=moved[start : start + CHUNK]).update(overtime_kind="rest")


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0005_day_overtime"),
        ("scheduling", "0003_calendar_statutory"),
    ]

    operations = [
        migrations.AddField(
            model_name="attendanceday",
            name="overtime_kind",
            field=models.CharField(
                default="weekday", max_length=8, verbose_name="overtime category"
            ),
        ),
        migrations.RunPython(categorise, migrations.RunPython.noop),
    ]
