"""Stored rows and a night-and-early-shift week shared by the recompute tests."""

from __future__ import annotations

import json
from datetime import time, timedelta

from ztk.engine import PunchIn, evaluate_day, partition_punches, result_row


def stored_rows(employee_ids):
    from ztk.attendance.models import AttendanceDay

    fields = ["employee_id", "day", "status", "slots", "notes", "worked_minutes", "absent_days"]
    return sorted(AttendanceDay.objects.filter(employee_id__in=employee_ids).values_list(*fields))


def night_and_early_week(group, boundary: int) -> None:
    """Night shifts crossing midnight (Mon, Wed, Thu, Sat 22:00-06:00), an early shift whose
    check-in window opens the evening before (Tue, Fri 00:30-09:00) and a day shift after
    the Saturday night (Sun 09:00-18:00, windows cut at 07:30), with a day boundary hour:
    the week where a punch's local date and its attendance date differ."""
    from ztk.scheduling.models import Shift as ShiftRow
    from ztk.scheduling.models import ShiftSegment, WeeklyPattern

    night = ShiftRow.objects.create(code="N", name="night")
    ShiftSegment.objects.create(shift=night, position=1, start=time(22), end=time(6))
    early = ShiftRow.objects.create(code="D", name="day")
    ShiftSegment.objects.create(
        shift=early, position=1, start=time(0, 30), end=time(9), in_earliest=600
    )
    nine = ShiftRow.objects.create(code="D9", name="nine to six")
    ShiftSegment.objects.create(shift=nine, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=group,
        monday_shift=night,
        tuesday_shift=early,
        wednesday_shift=night,
        thursday_shift=night,
        friday_shift=early,
        saturday_shift=night,
        sunday_shift=nine,
        use_work_calendar=False,
    )
    group.day_boundary_hour = boundary
    group.save()


def reference_rows(people, first, days, now, rows):
    """The rows as the engine gives them from every punch of the employees (no reads
    narrowed to a window), for the (employee, day) pairs of ``rows``."""
    from ztk.punches.models import Punch
    from ztk.scheduling.plans import build_plans

    plans = build_plans(people, first, first + timedelta(days=days))
    span = [first + timedelta(days=i) for i in range(days + 1)]
    out = []
    for person in people:
        punches = [
            PunchIn(pk, at, source, void_id is not None)
            for pk, at, source, void_id in Punch.objects.filter(employee=person).values_list(
                "pk", "at", "source", "void__id"
            )
        ]
        buckets = partition_punches([plans[(person.pk, d)] for d in span], punches)
        for employee_id, day, *_rest in rows:
            if employee_id != person.pk:
                continue
            result = evaluate_day(plans[(person.pk, day)], buckets.get(day, []), as_of=now)
            row = result_row(person.pk, result, finalised=False, computed_at=now)
            out.append(
                (
                    person.pk,
                    day,
                    row.status,
                    json.loads(row.slots),
                    json.loads(row.notes),
                    row.worked_minutes,
                    row.absent_days,
                )
            )
    return sorted(out)
