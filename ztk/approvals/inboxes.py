"""Other request types' queues, linked from the approver's inbox page.

The inbox page belongs to corrections (``/requests/inbox/``); a request type with its own
queue page (overtime) registers a reader here in its AppConfig.ready, and the inbox shows
one link per type with the number waiting for the user. Small on purpose: when the inbox
becomes one list of every request type, this goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class QueueLink:
    label: str
    waiting: int
    url: str


Reader = Callable[[Any], QueueLink | None]

_readers: list[Reader] = []


def register(reader: Reader) -> None:
    if reader not in _readers:
        _readers.append(reader)


def queue_links(user: Any) -> list[QueueLink]:
    """One link per registered request type that has a queue for this user."""
    return [link for reader in _readers if (link := reader(user)) is not None]
