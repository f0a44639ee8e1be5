"""Requests under way for the slots of employee-days (补卡 pending or approved).

The day page, the month calendar and the missed-punch alert must know that a missing slot
already has a correction request, but the requests live above attendance
(``ztk.corrections``), so that app registers its reader here when it starts
(``CorrectionsConfig.ready``), the way the terminals register with ``sources.py``.
Without a registered reader no slot has a request.

The same app registers the last day to apply for a correction (`deadlines_for`), which the
missed-punch alert quotes; without one registered, no deadline is known.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

PENDING = "pending"
APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class SlotRequest:
    """The newest pending or approved request for one slot of one employee-day."""

    pk: int
    status: str  # PENDING | APPROVED
    url: str

    @property
    def pending(self) -> bool:
        return self.status == PENDING


SlotKey = tuple[int, date, str]  # (employee id, day, slot key)
Reader = Callable[[Collection[int], date, date], Mapping[SlotKey, SlotRequest]]

_readers: list[Reader] = []


def register(reader: Reader) -> None:
    if reader not in _readers:
        _readers.append(reader)


def requests_for(
    employee_ids: Collection[int], start: date, end: date
) -> dict[SlotKey, SlotRequest]:
    """Every slot of these employees between `start` and `end` (inclusive) that has a
    pending or approved request; one query per registered reader."""
    found: dict[SlotKey, SlotRequest] = {}
    if not employee_ids:
        return found
    for reader in _readers:
        found.update(reader(employee_ids, start, end))
    return found


DeadlineReader = Callable[[Collection[Any], date], Mapping[int, "date | None"]]

_deadline_readers: list[DeadlineReader] = []


def register_deadlines(reader: DeadlineReader) -> None:
    if reader not in _deadline_readers:
        _deadline_readers.append(reader)


def deadlines_for(employees: Collection[Any], day: date) -> dict[int, date | None]:
    """The last day to apply for a correction of `day`, per employee id (employees are
    ``org.Employee`` rows); an employee missing from the answer has no known deadline."""
    found: dict[int, date | None] = {}
    for reader in _deadline_readers:
        found.update(reader(employees, day))
    return found
