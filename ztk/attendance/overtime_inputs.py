"""What the recompute needs to count overtime: each group's policy and the approved spans.

Overtime requests and the per-group overtime policy live above attendance
(``ztk.overtime``), so that app registers its reader here when it starts
(``OvertimeConfig.ready``), as the terminals do with ``sources.py``. Without a reader every
group has the engine's default policy (a request is needed) and nothing is approved, so
overtime is computed but never counted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from typing import NamedTuple

from ztk import engine

Span = tuple[datetime, datetime]


class OvertimeInputs(NamedTuple):
    """Policies by group id (None: employees without a group) and approved spans by
    (employee id, attendance date)."""

    policies: Mapping[int | None, engine.OvertimePolicy]
    approved: Mapping[tuple[int, date], list[Span]]

    def policy(self, group_id: int | None) -> engine.OvertimePolicy:
        return self.policies.get(group_id, engine.DEFAULT_POLICY)


# (employee ids, group ids, first date, last date) → the inputs.
Reader = Callable[[Collection[int], Collection[int | None], date, date], OvertimeInputs]

_readers: list[Reader] = []


def register(reader: Reader) -> None:
    if reader not in _readers:
        _readers.append(reader)


def overtime_inputs(
    employee_ids: Collection[int], group_ids: Collection[int | None], start: date, end: date
) -> OvertimeInputs:
    """The registered reader's answer (the first one; there is one owner)."""
    if not _readers or not employee_ids:
        return OvertimeInputs({}, {})
    return _readers[0](employee_ids, group_ids, start, end)
