"""Step deadlines (pure): the end of the N-th working day after the step started."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ztk.approvals.sla import step_deadline

SH = ZoneInfo("Asia/Shanghai")
# Fri 27 Nov 2026 … Wed 2 Dec: a plain week (Saturday and Sunday off).
WORK = [date(2026, 11, 27) + timedelta(days=i) for i in range(6)]
WORK = [d for d in WORK if d.weekday() < 5]


def test_one_working_day_after_a_friday_ends_on_monday_night():
    started = datetime(2026, 11, 27, 17, 0, tzinfo=SH)
    assert step_deadline(started, 1, SH, WORK) == datetime(2026, 12, 1, 0, 0, tzinfo=SH)


def test_two_working_days_and_a_start_late_in_utc_counted_in_the_local_day():
    started = datetime(2026, 11, 26, 17, 0, tzinfo=ZoneInfo("UTC"))  # Fri 01:00 in Shanghai
    assert step_deadline(started, 2, SH, WORK) == datetime(2026, 12, 2, 0, 0, tzinfo=SH)


def test_no_deadline_beyond_the_calendar_read():
    started = datetime(2026, 11, 30, 9, 0, tzinfo=SH)
    assert step_deadline(started, 5, SH, WORK) is None
