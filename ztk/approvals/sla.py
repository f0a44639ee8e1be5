"""Step deadlines (SLA): a step is due at the end of its N-th working day after it started,
in the employee's time zone, by the company work calendar. One rule for the inbox, the
oversight page, the API and the overdue reminders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ztk.scheduling.selectors import working_days_between

# Calendar days of work calendar read beyond today to place deadlines still ahead.
DEADLINE_HORIZON = 40


def step_deadline(
    started: datetime, working_days: int, tz: ZoneInfo, work: Sequence[date]
) -> datetime | None:
    """The end of the `working_days`-th working day after the step started (local);
    None when `work` (ascending working days) does not reach that far."""
    start_day = started.astimezone(tz).date()
    later = [d for d in work if d > start_day]
    if len(later) < max(working_days, 1):
        return None
    last = later[max(working_days, 1) - 1]
    return datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)


class Deadlines:
    """The work calendar read once for many steps started at `started` (any order)."""

    def __init__(
        self, started: Iterable[datetime | None], now: datetime, horizon: int = DEADLINE_HORIZON
    ) -> None:
        starts = [s for s in started if s is not None]
        self.work: list[date] = (
            working_days_between(
                min(starts).date() - timedelta(days=1), now.date() + timedelta(days=horizon)
            )
            if starts
            else []
        )

    def of(self, started: datetime | None, working_days: int, tz: ZoneInfo) -> datetime | None:
        if started is None or not self.work:
            return None
        return step_deadline(started, working_days, tz, self.work)
