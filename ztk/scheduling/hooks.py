"""Tell other apps which employee-days a schedule write touched, after it commits.

Scheduling must not import the attendance app (attendance depends on scheduling), so the
attendance app registers a callback here instead::

    from ztk.scheduling import hooks

    @hooks.connect
    def _recompute(changes: tuple[hooks.ScheduleChange, ...]) -> None: ...

Callbacks run through ``transaction.on_commit``: a rolled-back write never triggers a
recompute, and a failing callback is logged without undoing the committed write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from django.db import transaction

log = logging.getLogger(__name__)

Callback = Callable[[tuple["ScheduleChange", ...]], None]
_callbacks: list[Callback] = []


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    """A rectangle of employee-days whose plan may have changed.

    ``employee_ids`` None means every employee (a company calendar change); ``start`` /
    ``end`` None mean unbounded on that side (e.g. a pattern version with no successor, or
    a shift edit that applies to all its past uses) — consumers clip to the days they keep
    open, typically [first day of the open period, today]. ``dates``, when given, narrows
    the rectangle to those dates (calendar imports touch scattered dates).
    """

    employee_ids: frozenset[int] | None
    start: date | None
    end: date | None
    dates: frozenset[date] | None = None
    reason: str = ""

    @property
    def is_empty(self) -> bool:
        if self.employee_ids is not None and not self.employee_ids:
            return True
        if self.dates is not None and not self.dates:
            return True
        return self.start is not None and self.end is not None and self.end < self.start

    def covers(self, employee_id: int, day: date) -> bool:
        if self.employee_ids is not None and employee_id not in self.employee_ids:
            return False
        if self.start is not None and day < self.start:
            return False
        if self.end is not None and day > self.end:
            return False
        return self.dates is None or day in self.dates

    def days(self, *, lower: date, upper: date) -> Iterator[date]:
        """The dates of this change within [lower, upper] (open ends clipped to them)."""
        first = max(lower, self.start) if self.start is not None else lower
        last = min(upper, self.end) if self.end is not None else upper
        if self.dates is not None:
            yield from sorted(d for d in self.dates if first <= d <= last)
            return
        day = first
        while day <= last:
            yield day
            day += timedelta(days=1)

    def pairs(
        self, *, lower: date, upper: date, all_employee_ids: Iterable[int] = ()
    ) -> Iterator[tuple[int, date]]:
        """(employee_id, date) pairs within [lower, upper]; ``all_employee_ids`` stands in
        for "every employee" when ``employee_ids`` is None."""
        ids = self.employee_ids if self.employee_ids is not None else all_employee_ids
        days = list(self.days(lower=lower, upper=upper))
        for employee_id in ids:
            for day in days:
                yield employee_id, day


def connect(callback: Callback) -> Callback:
    """Register a callback (idempotent); usable as a decorator."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def disconnect(callback: Callback) -> None:
    if callback in _callbacks:
        _callbacks.remove(callback)


def _run(callback: Callback, changes: tuple[ScheduleChange, ...]) -> None:
    callback(changes)


def schedule_changed(changes: Iterable[ScheduleChange]) -> tuple[ScheduleChange, ...]:
    """Queue every callback with the non-empty changes, to run after the current commit.

    Returns the changes passed on, so services can hand the same value to their caller.
    Outside a transaction Django runs on_commit callbacks at once.
    """
    kept = tuple(change for change in changes if not change.is_empty)
    if kept:
        for callback in list(_callbacks):
            transaction.on_commit(partial(_run, callback, kept), robust=True)
    return kept
