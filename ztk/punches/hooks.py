"""Tell the app that owns the day which employee-days new punches landed on.

The punch store must not import the attendance app (attendance reads punches: it is the
layer above, docs/layers.md), so attendance registers its entry points here when it starts
(`AttendanceConfig.ready`), as it does for schedule changes (`ztk/scheduling/hooks.py`).
`record_punches` and `punch_void` call them in the caller's transaction, exactly as they
called attendance's functions before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured


class Recompute(Protocol):
    def __call__(self, pairs: Iterable[tuple[int, date]], *, now: datetime | None = ...) -> int:
        """Recompute these (employee id, day) pairs now."""
        ...


class RecomputePunched(Protocol):
    def __call__(
        self,
        pairs: Iterable[tuple[int, date]],
        punch_ids: Iterable[int],
        *,
        now: datetime | None = ...,
        punch_times: Mapping[int, Iterable[datetime]] | None = ...,
    ) -> int:
        """Recompute the candidate days of these new punches now."""
        ...


class Defer(Protocol):
    def __call__(self, punches: Iterable[tuple[int, date, int]]) -> int:
        """Queue the days of new punches (employee id, local date, punch id) for later."""
        ...


@dataclass(frozen=True, slots=True)
class DayKeeper:
    """The day owner's three entry points."""

    recompute: Recompute
    recompute_punched: RecomputePunched
    defer: Defer


_keeper: DayKeeper | None = None


def register(keeper: DayKeeper) -> None:
    global _keeper
    _keeper = keeper


def day_keeper() -> DayKeeper:
    if _keeper is None:
        raise ImproperlyConfigured(
            "no app keeps the days of punches: ztk.attendance must be in INSTALLED_APPS"
        )
    return _keeper
