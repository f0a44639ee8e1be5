"""The stored row: what json.dumps writes, and the same from the fast row builder as from
the result objects.

``day_row`` writes a fixed-shift day without exemptions or voided punches straight from
the judged day (no result objects); it must be, byte for byte, ``result_row`` of
``evaluate_day``'s result, and that must be what ``json.dumps`` writes.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.engine.strategies import PROPERTY, ZONES, days, moments, plans
from ztk.engine import (
    ROW_COLUMNS,
    DayPlan,
    PunchIn,
    Segment,
    Shift,
    day_row,
    evaluate_day,
    jsonable,
    result_row,
    slot_to_json,
    slot_windows,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@PROPERTY
@given(days())
def test_stored_json_is_what_json_dumps_writes(case):
    plan, punches, exemptions, as_of = case
    result = evaluate_day(plan, punches, exemptions, as_of=as_of)
    row = result_row(7, result, finalised=False, computed_at=NOW)
    assert row.slots == json.dumps([slot_to_json(s) for s in result.slots], ensure_ascii=False)
    notes = [{"code": n.code, "slot": n.slot, "params": jsonable(n.params)} for n in result.notes]
    assert row.notes == json.dumps(notes, ensure_ascii=False)
    assert row.exempt_minutes == json.dumps(dict(result.exempt_minutes_by_kind))
    assert row.outside_punch_ids == json.dumps(list(result.outside_punch_ids))
    assert str(row.absent_days) == str(result.absent_days)
    assert (row.worked_minutes, row.status, row.day) == (
        result.worked_minutes,
        result.status,
        result.day,
    )


@st.composite
def common_days(draw):
    """Fixed shifts with punches inside their windows: the days of a month."""
    plan = draw(plans())
    assume(plan.shift is not None and plan.shift.flexible is None)
    punches = []
    for n, window in enumerate(slot_windows(plan)):
        span = int((window.end - window.start).total_seconds() * 1_000_000)
        for k in range(draw(st.integers(min_value=0, max_value=2))):
            offset = draw(st.integers(min_value=0, max_value=max(0, span - 1)))
            at = window.start + timedelta(microseconds=offset)
            source = draw(st.sampled_from(["device", "web", "mobile", "import"]))
            punches.append(PunchIn(f"{n}-{k}", at.astimezone(draw(st.sampled_from(ZONES))), source))
    as_of = draw(st.one_of(st.none(), moments(plan)))
    return plan, punches, [], as_of


@PROPERTY
@given(st.one_of(days(), common_days()), st.booleans())
def test_the_row_builder_writes_the_row_of_the_engine_result(case, final):
    """Random days (correction, manual and outside punches, exemptions, voided punches,
    flexible shifts, rest days included) and common days."""
    plan, punches, exemptions, as_of = case
    as_of = None if final else as_of
    row = day_row(7, plan, punches, exemptions, as_of=as_of, finalised=final, computed_at=NOW)
    result = evaluate_day(plan, punches, exemptions, as_of=as_of)
    assert row == result_row(7, result, finalised=final, computed_at=NOW)


def test_a_row_names_its_columns():
    tz = ZoneInfo("Asia/Shanghai")
    plan = DayPlan(date(2026, 10, 9), tz, "work", Shift("D9", "day", (Segment(time(9), time(18)),)))
    punches = [
        PunchIn(1, datetime(2026, 10, 9, 9, 7, tzinfo=tz), "device"),
        PunchIn(2, datetime(2026, 10, 9, 17, 50, tzinfo=tz), "web"),
    ]
    row = day_row(1, plan, punches, as_of=None, finalised=True, computed_at=NOW)
    assert ROW_COLUMNS[:2] == ("employee_id", "day")
    assert ROW_COLUMNS[-4:] == (
        "computed_at",
        "overtime_minutes",
        "overtime_counted_minutes",
        "overtime_kind",
    )
    assert (row.overtime_minutes, row.overtime_counted_minutes) == (0, 0)  # the recompute's
    assert row.overtime_kind == "weekday"  # the plan's category, on every row
    assert (row.employee_id, row.day, row.status, row.late_minutes, row.early_minutes) == (
        1,
        date(2026, 10, 9),
        "abnormal",
        7,
        10,
    )
    assert (row.worked_minutes, row.finalised, row.provisional) == (523, True, False)
    assert json.loads(row.notes) == [
        {"code": "late", "slot": "in1", "params": {"minutes": 7}},
        {"code": "early", "slot": "out1", "params": {"minutes": 10}},
    ]


@pytest.mark.parametrize(
    ("kind", "statutory", "category"),
    [("rest", False, "rest"), ("holiday", False, "rest"), ("holiday", True, "holiday")],
)
def test_a_day_off_row_carries_its_overtime_category(kind, statutory, category):
    plan = DayPlan(date(2026, 10, 3), ZoneInfo("Asia/Shanghai"), kind, None, statutory=statutory)
    row = day_row(1, plan, [], as_of=None, finalised=True, computed_at=NOW)
    assert (row.kind, row.overtime_kind) == (kind, category)
