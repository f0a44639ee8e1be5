"""Whether each slot of an employee's days can be corrected now, said up front.

The day page and the month view tell the employee, before any form is filled in, which red
slot can be corrected (补卡) and, if not, why and what to do instead. The rule belongs to
``ztk.corrections`` (``policy.check_slot``, the same check a submission starts with), which
sits above attendance, so that app registers its checker here when it starts
(``CorrectionsConfig.ready``), as it does with ``slot_requests.py``. Without a registered
checker no slot has a verdict and the pages offer the correction form as before.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SlotCheck:
    """The verdict on one slot: may a correction be filed now, and if not, why (one
    sentence per broken rule, in the reader's language, with their stable codes) and what
    can be done instead (a sentence naming whom to ask, or empty)."""

    correctable: bool
    codes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    instead: str = ""


SlotKey = tuple[date, str]  # (day, slot key)
Checker = Callable[[Any, Any, Collection[date], datetime | None], Mapping[SlotKey, SlotCheck]]

_checkers: list[Checker] = []


def register(checker: Checker) -> None:
    if checker not in _checkers:
        _checkers.append(checker)


def checks_for(
    actor: Any, employee: Any, days: Collection[date], now: datetime | None = None
) -> dict[SlotKey, SlotCheck]:
    """The verdict on every slot of `employee`'s `days` for a correction filed by `actor`
    now; empty without a registered checker."""
    found: dict[SlotKey, SlotCheck] = {}
    if not days:
        return found
    for checker in _checkers:
        found.update(checker(actor, employee, days, now))
    return found
