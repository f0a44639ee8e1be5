"""Attendance data for page and API tests, built through the real services and engine.

Scheduling is not needed: each day is evaluated by the pure engine against a standard
09:00–18:00 shift and stored in the row shape the recompute service writes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ztk import engine
from ztk.attendance.models import AttendanceDay
from ztk.org.models import Employee
from ztk.punches.models import Punch
from ztk.punches.services import PunchInput, record_punches

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 1, 31, 12, 0, tzinfo=SH)  # "now" for record_punches: after all test data
STANDARD = engine.Shift(
    code="STD", name="标准班", segments=(engine.Segment(start=time(9), end=time(18)),)
)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


def punch(employee: Employee, moment: datetime, source: str = "device", **extra) -> Punch:
    """Record one punch through `record_punches` (no recompute: days are stored explicitly)."""
    fields = {"device_sn": "SN1", "pin": employee.employee_no} if source == "device" else {}
    fields.update(extra)
    result = record_punches(
        [PunchInput(at=moment, source=source, employee_id=employee.pk, **fields)],
        now=NOW,
        recompute=False,
    )
    assert result.new == 1, result.as_dict()
    return Punch.objects.get(pk=result.punch_ids[0])


def store_day(
    employee: Employee, day: date, *, kind: str = "work", as_of: datetime | None = None
) -> None:
    """Evaluate `day` from the employee's stored punches and upsert the AttendanceDay row."""
    lo, hi = at(day, 0), at(day + timedelta(days=1), 0)
    punches = [
        engine.PunchIn(p.pk, p.at, p.source, hasattr(p, "void"))
        for p in Punch.objects.filter(employee=employee, at__gte=lo, at__lt=hi).select_related(
            "void"
        )
    ]
    plan = engine.DayPlan(day=day, tz=SH, kind=kind, shift=STANDARD if kind == "work" else None)
    result = engine.evaluate_day(plan, punches, as_of=as_of)
    store_result(employee, result, finalised=as_of is None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def store_result(employee: Employee, result: engine.DayResult, *, finalised: bool) -> None:
    slots = [
        {
            "key": s.key,
            "kind": s.kind,
            "segment": s.segment,
            "expected": _iso(s.expected),
            "window_start": _iso(s.window_start),
            "window_end": _iso(s.window_end),
            "punch_id": s.punch_id,
            "punch_at": _iso(s.punch_at),
            "punch_source": s.punch_source,
            "status": s.status,
            "minutes": s.minutes,
            "serious": s.serious,
            "half_day_absent": s.half_day_absent,
        }
        for s in result.slots
    ]
    notes = [
        {
            "code": n.code,
            "slot": n.slot,
            "params": {k: _iso(v) if isinstance(v, datetime) else v for k, v in n.params.items()},
        }
        for n in result.notes
    ]
    AttendanceDay.objects.update_or_create(
        employee=employee,
        day=result.day,
        defaults={
            "kind": result.kind,
            "shift_code": result.shift_code or "",
            "status": result.status,
            "provisional": result.provisional,
            "finalised": finalised,
            "worked_minutes": result.worked_minutes,
            "late_count": result.late_count,
            "late_minutes": result.late_minutes,
            "serious_late_count": result.serious_late_count,
            "early_count": result.early_count,
            "early_minutes": result.early_minutes,
            "missing_in_count": result.missing_in_count,
            "missing_out_count": result.missing_out_count,
            "absent_days": Decimal(str(result.absent_days)),
            "corrected_count": result.corrected_count,
            "manual_count": result.manual_count,
            "exempt_minutes": dict(result.exempt_minutes_by_kind),
            "slots": slots,
            "notes": notes,
            "outside_punch_ids": list(result.outside_punch_ids),
            "computed_at": NOW,
        },
    )


def normal_day(employee: Employee, day: date, punches: int = 2) -> None:
    """A normal work day; extra punches land between check-in and check-out."""
    punch(employee, at(day, 8, 55))
    for i in range(max(0, punches - 2)):
        punch(employee, at(day, 12, i))
    punch(employee, at(day, 18, 5))
    store_day(employee, day)


def month_of_days(employee: Employee, year: int, month: int, punches_per_day: int = 4) -> None:
    """Every day of the month not stored yet: weekdays worked normally, weekends rest."""
    day = date(year, month, 1)
    stored = set(AttendanceDay.objects.filter(employee=employee).values_list("day", flat=True))
    while day.month == month:
        if day in stored:
            pass
        elif day.weekday() < 5:
            normal_day(employee, day, punches_per_day)
        else:
            punch(employee, at(day, 10, 0))  # a weekend punch: outside every window
            store_day(employee, day, kind="rest")
        day += timedelta(days=1)
