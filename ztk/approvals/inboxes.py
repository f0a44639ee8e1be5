"""The approver's one inbox: every pending step a user may decide, across request types.

A request type adds its rows through two optional methods of its ``Decidable``
(``registry``), so the machinery never imports a request type:

- ``inbox_rows(user, now) -> list[InboxRow]``: its requests waiting for `user` (approver,
  role holder or delegate; never the employee or applicant), in a constant number of
  queries whatever their number, each with its step deadline (``sla``);
- ``inbox_approve(actor, ids, comment) -> int``: approve those requests through the type's
  own approve service (the same permission checks as one by one); a request no longer
  waiting for `actor` or refused raises ``DomainError`` with ``details`` =
  ``[{"id", "message"}]`` (the caller's transaction then approves nothing).

The inbox page (``corrections.views.requests.inbox``, 审批) merges these rows with its
own correction rows in the one queue order (``selectors.queue_order``: overdue first);
``approve_picked`` approves a batch across types, all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from ztk.core.errors import DomainError

from .registry import registered
from .sla import Deadlines

MAX_ROWS = 500  # per request type: beyond that the page asks to narrow the filters
CANCELLATION = "cancellation"  # the type filter that shows every cancellation (撤销/销假)


@dataclass
class InboxRow:
    """One pending step as the inbox lists it (any request type)."""

    source: str  # the Decidable's name: "absences", "overtime" …
    type: str  # the filter key: "leave", "outing", "trip", "overtime" …
    type_label: str  # "年假", "外出", "加班" …
    pk: int
    employee_name: str
    employee_no: str
    first_day: date
    last_day: date
    when: str  # the dates (and times) as shown
    url: str
    waiting_since: datetime | None
    deadline: datetime | None = None
    urgent: bool = False
    cancellation: bool = False  # asks to cancel an approved request (撤销/销假)
    reason: str = ""
    detail: str = ""  # one more line: hours, destination …
    tz: ZoneInfo | None = None
    error: str = ""
    checked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The value of the row's checkbox in the batch form."""
        return f"{self.source}:{self.pk}"

    def overdue(self, now: datetime) -> bool:
        return self.deadline is not None and now >= self.deadline

    @property
    def deadline_local(self) -> datetime | None:
        if self.deadline is None:
            return None
        return self.deadline.astimezone(self.tz) if self.tz else self.deadline


def with_deadlines(
    rows: list[InboxRow],
    steps: Sequence[dict[str, Any] | None],
    zone_of: Callable[[int], ZoneInfo],
    groups: Sequence[int],
    now: datetime,
) -> list[InboxRow]:
    """Fill each row's step deadline (the work calendar read once for all rows; the zone
    asked once per attendance group). `steps`, `groups`: the rows' current steps and
    group ids, in the rows' order; `zone_of(i)`: the zone of row i's employee."""
    deadlines = Deadlines((r.waiting_since for r in rows), now)
    zones: dict[int, ZoneInfo] = {}
    for i, (row, step, group) in enumerate(zip(rows, steps, groups, strict=True)):
        if group not in zones:
            zones[group] = zone_of(i)
        row.tz = zones[group]
        days = int((step or {}).get("deadline_working_days") or 1)
        row.deadline = deadlines.of(row.waiting_since, days, zones[group])
    return rows


def _sources() -> list[Any]:
    return [d for d in registered() if getattr(d, "inbox_rows", None) is not None]


def type_choices() -> list[tuple[str, str]]:
    """(key, label) of every type the inbox can filter on, besides corrections'."""
    out: list[tuple[str, str]] = []
    for d in _sources():
        out.extend(getattr(d, "inbox_types", list)())
    return out


def waiting_rows(
    user: Any,
    now: datetime,
    *,
    type: str = "",
    search: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[InboxRow]:
    """Every other type's step waiting for `user`, filtered (type, employee name or number,
    dates overlapping [date_from, date_to]); the page orders them with its own rows."""
    rows: list[InboxRow] = []
    for d in _sources():
        rows.extend(d.inbox_rows(user, now))
    needle = search.strip().lower()
    out = []
    for row in rows:
        if type == CANCELLATION and not row.cancellation:
            continue
        if type and type != CANCELLATION and row.type != type:
            continue
        if needle and needle not in row.employee_name.lower() and needle not in row.employee_no:
            continue
        if date_from is not None and row.last_day < date_from:
            continue
        if date_to is not None and row.first_day > date_to:
            continue
        out.append(row)
    return out


def parse_picks(values: Iterable[str], limit: int = 200) -> dict[str, list[int]]:
    """``["overtime:12", "absences:5"]`` → ``{"overtime": [12], "absences": [5]}``;
    unknown types and malformed values are dropped."""
    known = {d.name for d in _sources()}
    picks: dict[str, list[int]] = {}
    for value in list(values)[:limit]:
        source, _sep, pk = str(value).partition(":")
        if source in known and pk.isdigit() and 0 < len(pk) <= 12:
            ids = picks.setdefault(source, [])
            if int(pk) not in ids:
                ids.append(int(pk))
    return picks


def approve_picked(*, actor: Any, picks: dict[str, list[int]], comment: str = "") -> int:
    """Approve the picked requests of every type, each through its own service, all or
    nothing. A refusal raises ``DomainError`` whose ``details`` name each refused row by
    its key (``"overtime:12"``)."""
    by_name = {d.name: d for d in _sources()}
    done = 0
    with transaction.atomic():
        for source, ids in picks.items():
            if not ids:
                continue
            try:
                done += by_name[source].inbox_approve(actor, ids, comment)
            except DomainError as error:
                failures = error.details if isinstance(error.details, list) else []
                error.details = [
                    {**f, "key": f"{source}:{f.get('id')}"} for f in failures if isinstance(f, dict)
                ]
                raise
    return done


def refuse_missing(ids: Iterable[int], found: Iterable[int], message: Any) -> None:
    """Raise the batch refusal for the ids that are no longer waiting for the actor."""
    missing = [i for i in ids if i not in set(found)]
    if missing:
        raise DomainError(
            "not_waiting",
            str(message),
            details=[{"id": i, "message": str(message)} for i in missing],
        )


def approve_each(ids: Sequence[int], approve: Callable[[int], Any]) -> int:
    """Approve one by one (inside the caller's transaction); a refusal is reported on the
    request it concerns and refuses the batch."""
    for pk in ids:
        try:
            approve(pk)
        except DomainError as error:
            raise DomainError(
                error.code,
                error.message,
                details=[{"id": pk, "message": error.message}],
                status=error.status,
            ) from error
    return len(ids)
