"""Properties: approved leave never leaves a covered slot missing (pure: coverage + the
engine, any shift including night shifts); a cancelled leave restores both the day and
the balance exactly (through the real services)."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztk import engine
from ztk.attendance.days import day_preview
from ztk.leave import coverage
from ztk.leave.absence_services import absence_cancel
from ztk.leave.models import AbsencePolicy
from ztk.leave.selectors import balance_of

from .conftest import MON, grant, leave

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 23)


@st.composite
def shifts(draw):
    """1–3 segments, chronological, within 24 hours, any start (night shifts included)."""
    count = draw(st.integers(1, 3))
    start = draw(st.integers(0, 23 * 60 - 1))
    segs = []
    cursor = start
    for _ in range(count):
        gap = draw(st.integers(0, 90)) if segs else 0
        length = draw(st.integers(30, 6 * 60))
        seg_start = cursor + gap
        seg_end = seg_start + length
        if seg_end - start > 24 * 60 - 60:
            break
        segs.append((seg_start, seg_end))
        cursor = seg_end

    def clock(m: int) -> time:
        m %= 24 * 60
        return time(m // 60, m % 60)

    return engine.Shift(
        code="S", name="S",
        segments=tuple(engine.Segment(start=clock(s), end=clock(e), in_earliest=30,
                                      out_latest=30) for s, e in segs),
    )  # fmt: skip


@settings(max_examples=300)
@given(shift=shifts(), part=st.sampled_from(["full", "am", "pm"]))
def test_approved_leave_never_leaves_a_covered_slot_missing(shift, part):
    plan = engine.DayPlan(day=DAY, tz=SH, kind="work", shift=shift)
    (interval,) = coverage.cover_days({DAY: plan}, DAY, DAY, part)
    exemption = engine.Exemption(interval.start, interval.end, "leave")
    result = engine.evaluate_day(plan, (), (exemption,), as_of=None)
    covered = [
        s for s in result.slots
        if (s.kind == "in" and interval.start <= s.expected < interval.end)
        or (s.kind == "out" and interval.start < s.expected <= interval.end)
    ]  # fmt: skip
    assert covered, "a part of a working day covers at least one slot"
    assert all(s.status == "exempt" for s in covered)
    if part == "full":
        assert result.status == "leave"
        assert all(s.status == "exempt" for s in result.slots)
    else:
        # the other half is still expected: its slots are missing without punches
        assert any(s.status == "missing" for s in result.slots)


class Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    offset=st.integers(-14, 0),
    length=st.integers(0, 4),
    start_part=st.sampled_from(["full", "pm"]),
    end_part=st.sampled_from(["full", "am"]),
    opening=st.sampled_from(["3", "5", "12.5"]),
)
def test_a_cancelled_leave_restores_the_day_and_the_balance_exactly(
    week, offset, length, start_part, end_part, opening
):
    org = week
    start = MON + timedelta(days=offset)
    end = start + timedelta(days=length)
    try:
        with transaction.atomic():
            AbsencePolicy.objects.update_or_create(group=org.group,
                                                   defaults={"chain_preset": "flat"})  # fmt: skip
            grant(org.employee, opening)
            days = [start + timedelta(days=i) for i in range(length + 1)]
            before = [day_preview(org.employee, d, final=True) for d in days]
            balance = balance_of(org.employee, "annual")
            try:
                req = leave(org.employee, start, end, actor=org.hr.user,
                            start_part=start_part, end_part=end_part)  # fmt: skip
            except Exception as refused:  # noqa: BLE001 - no working day, or too little balance
                assert getattr(refused, "code", "") in {"no_working_time",
                                                         "insufficient_balance"}  # fmt: skip
                raise Rollback from None
            assert req.status == "approved"  # HR filed it; the flat chain has no other step
            assert balance_of(org.employee, "annual") == balance - req.amount
            during = [day_preview(org.employee, d, final=True) for d in days]
            assert during != before  # the leave shows on its days
            cancellation = absence_cancel(actor=org.hr.user, request=req)
            assert cancellation.status == "approved"
            after = [day_preview(org.employee, d, final=True) for d in days]
            assert after == before
            assert balance_of(org.employee, "annual") == balance == Decimal(opening)
            raise Rollback
    except Rollback:
        pass
