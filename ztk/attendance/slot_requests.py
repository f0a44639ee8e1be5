"""Requests under way for the slots of employee-days (补卡 pending or approved).

The day page, the month calendar and the missed-punch alert must know that a missing slot
already has a correction request, but the requests live above attendance
(``ztk.corrections``), so that app registers its reader here when it starts
(``CorrectionsConfig.ready``), the way the terminals register with ``sources.py``.
Without a registered reader no slot has a request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date

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
