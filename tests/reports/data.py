# ruff: noqa: E501  (the day table below reads best one day per line)
"""November 2026 for the small org, as stored AttendanceDay rows written directly.

Each day is given with the figures the engine would have stored, so the expected report
values can be worked out by hand from the table below (see the tests), independently of
the report code.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ztk.attendance.models import AttendanceDay
from ztk.org.models import Employee

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
NOV_START, NOV_END = date(2026, 11, 1), date(2026, 11, 30)
COMPUTED = datetime(2026, 11, 27, 12, 0, tzinfo=SH)


def d(day: int) -> date:
    return date(2026, 11, day)


def slot(key: str, status: str, hhmm: str | None = None, minutes: int = 0) -> dict[str, Any]:
    """A stored slot; the punch time is stored in UTC as the recompute stores it."""
    return {"key": key, "status": status, "at": hhmm, "minutes": minutes}


# 张三 (1002), November 2026. Work days Mon–Fri; Nov 27 is still provisional; Nov 28–30
# are not stored (the future when the data was computed).
ZHANG = [
    # day, kind, status, figures, slots
    (1, "rest", "rest", {}, []),
    (2, "work", "normal", {"worked": 540}, [slot("in1", "normal", "08:55"), slot("out1", "normal", "18:02")]),
    (3, "work", "abnormal", {"worked": 523, "late": (1, 17)}, [slot("in1", "late", "09:17", 17), slot("out1", "normal", "18:00")]),
    (4, "work", "abnormal", {"worked": 495, "late": (1, 45), "serious": 1}, [slot("in1", "late", "09:45", 45), slot("out1", "normal", "18:10")]),
    (5, "work", "abnormal", {"worked": 520, "early": (1, 20)}, [slot("in1", "normal", "08:50"), slot("out1", "early", "17:40", 20)]),
    (6, "work", "abnormal", {"worked": 0, "missing_out": 1}, [slot("in1", "normal", "08:58"), slot("out1", "missing")]),
    (7, "rest", "rest", {}, []),
    (8, "rest", "rest", {}, []),
    (9, "work", "absent", {"worked": 0, "missing_in": 1, "missing_out": 1, "absent": "1"}, [slot("in1", "missing"), slot("out1", "missing")]),
    (10, "work", "leave", {"worked": 0, "exempt": {"leave": 540}}, [slot("in1", "exempt"), slot("out1", "exempt")]),
    (11, "work", "abnormal", {"worked": 390, "late": (1, 150), "serious": 1, "absent": "0.5"}, [slot("in1", "late", "11:30", 150), slot("out1", "normal", "18:00")]),
    (12, "work", "normal", {"worked": 540, "corrected": 1}, [slot("in1", "corrected", "09:00"), slot("out1", "normal", "18:01")]),
    (13, "work", "normal", {"worked": 540, "manual": 1}, [slot("in1", "normal", "08:59"), slot("out1", "manual", "18:00")]),
    (14, "rest", "rest", {}, []),
    (15, "rest", "rest", {}, []),
    (16, "work", "normal", {"worked": 420, "exempt": {"outing": 120}}, [slot("in1", "normal", "08:57"), slot("out1", "exempt")]),
    (17, "work", "leave", {"worked": 0, "exempt": {"trip": 540}}, [slot("in1", "exempt"), slot("out1", "exempt")]),
    (18, "work", "normal", {"worked": 540}, [slot("in1", "normal", "08:51"), slot("out1", "normal", "18:20")]),
    (19, "work", "normal", {"worked": 540}, [slot("in1", "normal", "08:52"), slot("out1", "normal", "18:21")]),
    (20, "work", "normal", {"worked": 540}, [slot("in1", "normal", "08:53"), slot("out1", "normal", "18:22")]),
    (21, "rest", "rest", {}, []),
    (22, "rest", "rest", {}, []),
    (23, "work", "normal", {"worked": 540}, [slot("in1", "normal", "08:54"), slot("out1", "normal", "18:23")]),
    (24, "work", "normal", {"worked": 540}, [slot("in1", "normal", "08:55"), slot("out1", "normal", "18:24")]),
    (25, "work", "normal", {"worked": 540, "exempt": {"leave": 30}}, [slot("in1", "normal", "08:56"), slot("out1", "normal", "18:25")]),
    (26, "work", "normal", {"worked": 540}, [slot("in1", "normal", "08:57"), slot("out1", "normal", "18:26")]),
    (27, "work", "normal", {"worked": 0, "provisional": True}, [slot("in1", "normal", "08:58"), slot("out1", "pending")]),
]  # fmt: skip

# 李四 (1003): three days. 赵六 (2001, SALES): one absent day, one holiday.
LI = [
    (2, "work", "normal", {"worked": 540}, [slot("in1", "normal", "08:40"), slot("out1", "normal", "18:00")]),
    (3, "work", "abnormal", {"worked": 535, "late": (1, 5)}, [slot("in1", "late", "09:05", 5), slot("out1", "normal", "18:00")]),
    (4, "work", "normal", {"worked": 540}, [slot("in1", "normal", "08:45"), slot("out1", "normal", "18:00")]),
]  # fmt: skip
ZHAO = [
    (2, "work", "absent", {"worked": 0, "missing_in": 1, "missing_out": 1, "absent": "1"}, [slot("in1", "missing"), slot("out1", "missing")]),
    (3, "holiday", "holiday", {}, []),
]  # fmt: skip


def _slot_json(day: date, s: dict[str, Any]) -> dict[str, Any]:
    is_in = s["key"].startswith("in")
    expected = datetime.combine(day, time(9) if is_in else time(18), tzinfo=SH)
    punch_at = None
    if s["at"]:
        hh, mm = (int(x) for x in s["at"].split(":"))
        punch_at = datetime.combine(day, time(hh, mm), tzinfo=SH).astimezone(UTC).isoformat()
    return {
        "key": s["key"],
        "kind": "in" if is_in else "out",
        "segment": int(s["key"][-1]),
        "expected": expected.isoformat(),
        "window_start": (expected - timedelta(hours=2)).isoformat(),
        "window_end": (expected + timedelta(hours=4)).isoformat(),
        "punch_id": None,
        "punch_at": punch_at,
        "punch_source": "device" if punch_at else None,
        "status": s["status"],
        "minutes": s["minutes"],
        "serious": False,
        "half_day_absent": False,
    }


def _notes(kind: str, status: str, figures: dict, slots: list[dict]) -> list[dict]:
    if kind != "work":
        return [{"code": kind, "slot": None, "params": {}}]
    notes: list[dict] = []
    if status == "absent":
        notes.append({"code": "absent", "slot": None, "params": {}})
    if figures.get("provisional"):
        notes.append({"code": "provisional", "slot": None, "params": {"as_of": "2026-11-27 12:00"}})
    for s in slots:
        if s["status"] == "late":
            notes.append({"code": "late", "slot": s["key"], "params": {"minutes": s["minutes"]}})
        elif s["status"] == "exempt":
            kinds = list(figures.get("exempt", {}))
            notes.append({"code": "exempt", "slot": s["key"], "params": {"kind": kinds[-1]}})
        elif s["status"] == "missing":
            notes.append({"code": "no_punch", "slot": s["key"], "params": {}})
    return notes


def store(employee: Employee, spec: list) -> None:
    for number, kind, status, figures, slots in spec:
        day = d(number)
        provisional = bool(figures.get("provisional"))
        late = figures.get("late", (0, 0))
        early = figures.get("early", (0, 0))
        AttendanceDay.objects.create(
            employee=employee,
            day=day,
            kind=kind,
            shift_code="D9" if kind == "work" else "",
            status=status,
            provisional=provisional,
            finalised=not provisional,
            worked_minutes=figures.get("worked", 0),
            late_count=late[0],
            late_minutes=late[1],
            serious_late_count=figures.get("serious", 0),
            early_count=early[0],
            early_minutes=early[1],
            missing_in_count=figures.get("missing_in", 0),
            missing_out_count=figures.get("missing_out", 0),
            absent_days=Decimal(figures.get("absent", "0")),
            corrected_count=figures.get("corrected", 0),
            manual_count=figures.get("manual", 0),
            exempt_minutes=figures.get("exempt", {}),
            slots=[_slot_json(day, s) for s in slots],
            notes=_notes(kind, status, figures, slots),
            computed_at=COMPUTED,
        )


def november(org) -> None:
    """张三, 李四 and 赵六's stored days; everyone else in the org has none."""
    from ztk.scheduling.models import Shift, ShiftSegment

    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    store(org.employee, ZHANG)
    store(org.colleague, LI)
    store(org.stranger, ZHAO)
