"""Pure rule check for missed-punch correction requests (补卡申请).

No Django, no ORM and no clock: the service layer gathers the :class:`Facts` (including
``now``) and the group's :class:`Policy`, and :func:`check_submission` says which rules a
submission breaks. Keeping the decision pure lets every rule be tested from a table and by
properties without a database, and lets the web form, the API and the batch flow refuse
with exactly the same codes.

The semantics are those of ``shared/design/rules.md`` ("Correction quota and deadlines")
and the product rules. Where the text is silent the choice made here is stated where it
is made:

* The reason length is counted after stripping leading and trailing whitespace, in
  Unicode code points after NFC normalisation, so one Chinese character counts one.
* The cut-off date is ``cutoff_day`` of the month after the month in which the period
  ends, clamped to that month's length (31 → 28/29/30); it is the last day on which the
  period can still be corrected. Passing it is reported as ``period_closed``.
* In working-day mode, a deadline that cannot be determined (fewer working days supplied
  than the window needs) fails closed: the submission is refused as ``window_expired``
  with ``last_day`` set to ``"?"``. The service must supply enough working days.
* A submission on behalf of the employee by someone who may not file for them is refused
  as ``permission_denied`` (the code of ``ztk.core.errors.PermissionDeniedError``).
* ``justification_required`` is only reported when expediting is allowed at all.

Refusals are returned in the order of :data:`CODES` (who → when → how many → what →
details), every applicable one, so a form can show all problems at once.

The rules that need nothing typed in (who, when, how many, which slot) are
:func:`check_slot`; :func:`check_submission` starts with exactly that check and adds the
rules about what was typed. The day page and the month view ask :func:`check_slot` up
front, so what they say about a slot and what a submission is refused with cannot differ.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, Literal

from ztk.engine.periods import at_day, check_start_day, period_of, shift_month

__all__ = [
    "ATTACHMENT_REQUIRED",
    "CODES",
    "CORRECTABLE_ANOMALIES",
    "DUPLICATE_PENDING",
    "EMPLOYEE_INACTIVE",
    "EXPEDITE_NOT_ALLOWED",
    "FUTURE_DAY",
    "FUTURE_TIME",
    "JUSTIFICATION_REQUIRED",
    "MONTHLY_LIMIT_REACHED",
    "NOT_ALLOWED_TO_SELF_APPLY",
    "NOT_AN_ANOMALY",
    "PERIOD_CLOSED",
    "PERMISSION_DENIED",
    "REASON_TOO_SHORT",
    "SLOT_ALREADY_PUNCHED",
    "SLOT_CODES",
    "SLOT_NOT_FOUND",
    "TIME_OUTSIDE_SLOT_WINDOW",
    "UNKNOWN_CATEGORY",
    "UNKNOWN_LAST_DAY",
    "WINDOW_EXPIRED",
    "Facts",
    "Policy",
    "Refusal",
    "SlotFacts",
    "WindowMode",
    "apply_deadline",
    "check_slot",
    "check_submission",
    "cutoff_for",
    "last_day_to_apply",
    "reason_length",
]

WindowMode = Literal["calendar", "working"]

# --------------------------------------------------------------------------- codes

EMPLOYEE_INACTIVE: Final = "employee_inactive"
NOT_ALLOWED_TO_SELF_APPLY: Final = "not_allowed_to_self_apply"
PERMISSION_DENIED: Final = "permission_denied"
PERIOD_CLOSED: Final = "period_closed"
WINDOW_EXPIRED: Final = "window_expired"
FUTURE_DAY: Final = "future_day"
MONTHLY_LIMIT_REACHED: Final = "monthly_limit_reached"
SLOT_NOT_FOUND: Final = "slot_not_found"
SLOT_ALREADY_PUNCHED: Final = "slot_already_punched"
NOT_AN_ANOMALY: Final = "not_an_anomaly"
DUPLICATE_PENDING: Final = "duplicate_pending"
FUTURE_TIME: Final = "future_time"
TIME_OUTSIDE_SLOT_WINDOW: Final = "time_outside_slot_window"
UNKNOWN_CATEGORY: Final = "unknown_category"
REASON_TOO_SHORT: Final = "reason_too_short"
ATTACHMENT_REQUIRED: Final = "attachment_required"
EXPEDITE_NOT_ALLOWED: Final = "expedite_not_allowed"
JUSTIFICATION_REQUIRED: Final = "justification_required"

# Every code, in the order check_submission reports them.
CODES: Final[tuple[str, ...]] = (
    EMPLOYEE_INACTIVE,
    NOT_ALLOWED_TO_SELF_APPLY,
    PERMISSION_DENIED,
    PERIOD_CLOSED,
    WINDOW_EXPIRED,
    FUTURE_DAY,
    MONTHLY_LIMIT_REACHED,
    SLOT_NOT_FOUND,
    SLOT_ALREADY_PUNCHED,
    NOT_AN_ANOMALY,
    DUPLICATE_PENDING,
    FUTURE_TIME,
    TIME_OUTSIDE_SLOT_WINDOW,
    UNKNOWN_CATEGORY,
    REASON_TOO_SHORT,
    ATTACHMENT_REQUIRED,
    EXPEDITE_NOT_ALLOWED,
    JUSTIFICATION_REQUIRED,
)
# The codes check_slot reports: everything that can be known before a form is filled in.
SLOT_CODES: Final = frozenset(
    {
        EMPLOYEE_INACTIVE,
        NOT_ALLOWED_TO_SELF_APPLY,
        PERMISSION_DENIED,
        PERIOD_CLOSED,
        WINDOW_EXPIRED,
        FUTURE_DAY,
        MONTHLY_LIMIT_REACHED,
        SLOT_NOT_FOUND,
        SLOT_ALREADY_PUNCHED,
        NOT_AN_ANOMALY,
        DUPLICATE_PENDING,
    }
)

# Anomalies a policy may make correctable; "missing" is the default.
CORRECTABLE_ANOMALIES: Final = frozenset({"missing", "late", "early"})
# Slot statuses meaning a valid punch (or an exemption) already fills the slot.
_FILLED: Final = frozenset({"normal", "corrected", "manual", "exempt"})
# Placeholder for a deadline that cannot be determined from the facts given.
UNKNOWN_LAST_DAY: Final = "?"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Policy:
    """An attendance group's correction rules; the defaults are the product's defaults.

    ``monthly_limit`` 0 means no limit. ``categories`` None accepts any reason category.
    ``period_start_day`` is limited to 1–28 so every month has a period start.
    """

    monthly_limit: int = 3
    window_days: int = 3
    window_mode: WindowMode = "calendar"
    cutoff_day: int | None = None
    correctable: frozenset[str] = frozenset({"missing"})
    min_reason_length: int = 5
    self_apply: bool = True
    attachment_categories: frozenset[str] = frozenset()
    categories: frozenset[str] | None = None
    expedite_allowed: bool = True
    period_start_day: int = 1

    def __post_init__(self) -> None:
        # A bad policy is a configuration bug: refuse it when built, so the check itself
        # never has to guess.
        for name in ("monthly_limit", "window_days", "min_reason_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Policy.{name} must be a non-negative integer")
        if self.window_mode not in ("calendar", "working"):
            raise ValueError("Policy.window_mode must be 'calendar' or 'working'")
        if self.cutoff_day is not None and not _int_between(self.cutoff_day, 1, 31):
            raise ValueError("Policy.cutoff_day must be None or between 1 and 31")
        try:
            check_start_day(self.period_start_day)
        except ValueError as exc:
            raise ValueError(f"Policy.{exc}") from None
        unknown = set(self.correctable) - CORRECTABLE_ANOMALIES
        if unknown:
            raise ValueError(f"Policy.correctable has unknown anomalies: {sorted(unknown)}")
        object.__setattr__(self, "correctable", frozenset(self.correctable))
        object.__setattr__(self, "attachment_categories", frozenset(self.attachment_categories))
        if self.categories is not None:
            object.__setattr__(self, "categories", frozenset(self.categories))


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything about one submission (one day-slot) that the rules look at.

    ``now`` is the submission instant in the group's zone: its date is the local date the
    window is judged by. ``used_in_period`` counts pending and approved requests in the
    period of ``day``, not this one; ``batch_index_in_period`` counts earlier items of the
    same multi-item submission in that period, so a batch cannot exceed the limit.
    """

    employee_active: bool
    on_behalf: bool
    applicant_may_file_on_behalf: bool
    day: date
    slot_key: str
    slot_status: str | None
    slot_window_start: datetime | None
    slot_window_end: datetime | None
    slot_window_end_inclusive: bool
    requested_time: datetime
    now: datetime
    working_days_after: tuple[date, ...] = ()
    period_closed: bool = False
    used_in_period: int = 0
    pending_for_slot: bool = False
    category: str = ""
    reason: str = ""
    attachment_count: int = 0
    expedited: bool = False
    expedite_justification: str = ""
    quota_override: bool = False
    counts_against_quota: bool = True
    batch_index_in_period: int = 0

    def __post_init__(self) -> None:
        # Naive datetimes cannot be compared with aware ones; reject them here so that
        # check_submission never raises.
        _check_aware("Facts.requested_time", self.requested_time)
        _check_aware("Facts.now", self.now)
        if self.slot_window_start is not None:
            _check_aware("Facts.slot_window_start", self.slot_window_start)
        if self.slot_window_end is not None:
            _check_aware("Facts.slot_window_end", self.slot_window_end)
        if isinstance(self.day, datetime) or not isinstance(self.day, date):
            raise ValueError("Facts.day must be a datetime.date")
        for name in ("used_in_period", "attachment_count", "batch_index_in_period"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Facts.{name} must be a non-negative integer")
        object.__setattr__(self, "working_days_after", tuple(self.working_days_after))

    def slot(self) -> SlotFacts:
        """The part of the submission :func:`check_slot` looks at; ``today`` is the local
        date of ``now``."""
        return SlotFacts(
            employee_active=self.employee_active,
            on_behalf=self.on_behalf,
            applicant_may_file_on_behalf=self.applicant_may_file_on_behalf,
            day=self.day,
            slot_key=self.slot_key,
            slot_status=self.slot_status,
            today=self.now.date(),
            working_days_after=self.working_days_after,
            period_closed=self.period_closed,
            used_in_period=self.used_in_period,
            pending_for_slot=self.pending_for_slot,
            quota_override=self.quota_override,
            counts_against_quota=self.counts_against_quota,
            batch_index_in_period=self.batch_index_in_period,
        )


@dataclass(frozen=True, slots=True)
class SlotFacts:
    """One day-slot before anything is typed in: who asks, which day and slot, in what
    state, and how much of the quota is used. ``today`` is the local date of the check
    (the group's zone). The fields mean what the same fields of :class:`Facts` mean."""

    employee_active: bool
    on_behalf: bool
    applicant_may_file_on_behalf: bool
    day: date
    slot_key: str
    slot_status: str | None
    today: date
    working_days_after: tuple[date, ...] = ()
    period_closed: bool = False
    used_in_period: int = 0
    pending_for_slot: bool = False
    quota_override: bool = False
    counts_against_quota: bool = True
    batch_index_in_period: int = 0

    def __post_init__(self) -> None:
        for name in ("day", "today"):
            value = getattr(self, name)
            if isinstance(value, datetime) or not isinstance(value, date):
                raise ValueError(f"SlotFacts.{name} must be a datetime.date")
        for name in ("used_in_period", "batch_index_in_period"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"SlotFacts.{name} must be a non-negative integer")
        object.__setattr__(self, "working_days_after", tuple(self.working_days_after))


@dataclass(frozen=True, slots=True)
class Refusal:
    """One broken rule: a stable ``code`` and the values its message needs.

    ``params`` hold only JSON-friendly values (str, int) so the API can return them as
    error details; they are read-only so a refusal can be shared safely.
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


# --------------------------------------------------------------------------- helpers


def _int_between(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_aware(what: str, value: object) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")


def _plus_days(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days >= 0 else date.min


def _display(value: datetime, zone_of: datetime) -> str:
    """Local wall time for messages, in the zone of ``now`` when it can be converted."""
    with contextlib.suppress(OverflowError, ValueError):
        value = value.astimezone(zone_of.tzinfo)
    return value.strftime("%Y-%m-%d %H:%M")


def reason_length(reason: str) -> int:
    """Characters counted against ``min_reason_length``.

    Leading and trailing whitespace are padding, not a reason; NFC normalisation makes a
    composed character count once however it was typed.
    """
    return len(unicodedata.normalize("NFC", reason).strip())


# --------------------------------------------------------------------------- periods
# The period arithmetic (period_of, shift_month, at_day) is ztk.engine.periods.


def cutoff_for(policy: Policy, day: date) -> date | None:
    """Last day on which the period of ``day`` can still be corrected, or None when no
    cut-off is set.

    The cut-off is ``cutoff_day`` of the month after the month in which the period ends
    (for a period ending 25 November and cut-off day 5: 5 December), clamped to that
    month's length, so a cut-off never falls inside the period it closes.
    """
    if policy.cutoff_day is None:
        return None
    _, end = period_of(day, policy.period_start_day)
    following = shift_month(end.year, end.month, 1)
    if following is None:
        return date.max
    return at_day(following, policy.cutoff_day)


def last_day_to_apply(
    policy: Policy, day: date, working_days_after: Iterable[date] = ()
) -> date | None:
    """Last local date on which a correction for ``day`` may be submitted (window only).

    Calendar mode: ``day + window_days``. Working-day mode: the ``window_days``-th working
    day after ``day`` (``day`` itself when the window is 0), or None when fewer working
    days are known than the window needs. The cut-off and the period lock are separate
    (see :func:`cutoff_for`).
    """
    if policy.window_mode == "calendar":
        return _plus_days(day, policy.window_days)
    if policy.window_days == 0:
        return day
    later = sorted({d for d in working_days_after if d > day})
    if len(later) < policy.window_days:
        return None
    return later[policy.window_days - 1]


def apply_deadline(
    policy: Policy, day: date, working_days_after: Iterable[date] = ()
) -> date | None:
    """The last day to apply for a correction of ``day`` as people are told it (pages,
    quota, API): the window's last day (:func:`last_day_to_apply`), brought forward to the
    cut-off (:func:`cutoff_for`) when that comes first; None when the window's last day is
    unknown. The one place the two are combined; :func:`check_submission` reports them
    separately (``window_expired``, ``period_closed``).
    """
    last = last_day_to_apply(policy, day, working_days_after)
    cutoff = cutoff_for(policy, day)
    if last is not None and cutoff is not None:
        last = min(last, cutoff)
    return last


# --------------------------------------------------------------------------- the check


def check_slot(policy: Policy, facts: SlotFacts) -> list[Refusal]:
    """Every rule a correction of this slot breaks whatever is typed in the form (who,
    when, how many, which slot), in the order of :data:`CODES`; empty = the slot can be
    corrected. :func:`check_submission` begins with exactly this check, so a slot shown
    as correctable (or refused, with a reason) up front is refused at submission for the
    same reasons and no others of these codes.
    """
    refusals: list[Refusal] = []
    add = refusals.append
    day_iso = facts.day.isoformat()
    today = facts.today

    # Who.
    if not facts.employee_active:
        add(Refusal(EMPLOYEE_INACTIVE, {}))
    if not facts.on_behalf and not policy.self_apply:
        add(Refusal(NOT_ALLOWED_TO_SELF_APPLY, {}))
    if facts.on_behalf and not facts.applicant_may_file_on_behalf:
        add(Refusal(PERMISSION_DENIED, {}))

    # When.
    period_start, period_end = period_of(facts.day, policy.period_start_day)
    period = {"period_start": period_start.isoformat(), "period_end": period_end.isoformat()}
    cutoff = cutoff_for(policy, facts.day)
    if facts.period_closed or (cutoff is not None and today > cutoff):
        add(
            Refusal(
                PERIOD_CLOSED,
                {**period, "cutoff": cutoff.isoformat() if cutoff is not None else ""},
            )
        )
    last_day = last_day_to_apply(policy, facts.day, facts.working_days_after)
    if last_day is None or today > last_day:
        add(
            Refusal(
                WINDOW_EXPIRED,
                {
                    "day": day_iso,
                    "last_day": UNKNOWN_LAST_DAY if last_day is None else last_day.isoformat(),
                    "window_days": policy.window_days,
                    "window_mode": policy.window_mode,
                },
            )
        )
    if facts.day > today:
        # Nothing has been missed yet: the day is still to come.
        add(Refusal(FUTURE_DAY, {"day": day_iso, "today": today.isoformat()}))

    # How many.
    used = facts.used_in_period + facts.batch_index_in_period
    if (
        facts.counts_against_quota
        and not facts.quota_override
        and policy.monthly_limit > 0
        and used >= policy.monthly_limit
    ):
        add(Refusal(MONTHLY_LIMIT_REACHED, {"limit": policy.monthly_limit, "used": used, **period}))

    # What.
    slot = {"day": day_iso, "slot": facts.slot_key}
    status = facts.slot_status
    if status is None:
        add(Refusal(SLOT_NOT_FOUND, slot))
    elif status in _FILLED:
        add(Refusal(SLOT_ALREADY_PUNCHED, {**slot, "status": status}))
    elif status not in CORRECTABLE_ANOMALIES or status not in policy.correctable:
        # 'pending' (the punch window is still open), a late/early slot the policy does not
        # let employees correct, or any status this module does not know.
        add(Refusal(NOT_AN_ANOMALY, {**slot, "status": status}))
    if facts.pending_for_slot:
        add(Refusal(DUPLICATE_PENDING, slot))
    return refusals


def check_submission(policy: Policy, facts: Facts) -> list[Refusal]:
    """Every rule the submission breaks, in the order of :data:`CODES`; empty = allowed.

    Returning all refusals, not just the first, lets a form show every problem at once
    and lets tests pin each rule independently. The function never raises for facts
    that could be built. The slot's own rules are :func:`check_slot`'s.
    """
    refusals = check_slot(policy, facts.slot())
    add = refusals.append
    slot = {"day": facts.day.isoformat(), "slot": facts.slot_key}

    requested = _display(facts.requested_time, facts.now)
    if facts.requested_time > facts.now:
        add(Refusal(FUTURE_TIME, {"requested": requested, "now": _display(facts.now, facts.now)}))
    start, end = facts.slot_window_start, facts.slot_window_end
    before_start = start is not None and facts.requested_time < start
    after_end = end is not None and (
        facts.requested_time > end
        or (facts.requested_time == end and not facts.slot_window_end_inclusive)
    )
    if before_start or after_end:
        add(
            Refusal(
                TIME_OUTSIDE_SLOT_WINDOW,
                {
                    **slot,
                    "requested": requested,
                    "start": "" if start is None else _display(start, facts.now),
                    "end": "" if end is None else _display(end, facts.now),
                },
            )
        )

    # Details.
    if policy.categories is not None and facts.category not in policy.categories:
        add(Refusal(UNKNOWN_CATEGORY, {"category": facts.category}))
    length = reason_length(facts.reason)
    if length < policy.min_reason_length:
        add(Refusal(REASON_TOO_SHORT, {"min": policy.min_reason_length, "length": length}))
    if facts.category in policy.attachment_categories and facts.attachment_count < 1:
        add(Refusal(ATTACHMENT_REQUIRED, {"category": facts.category}))
    if facts.expedited:
        if not policy.expedite_allowed:
            add(Refusal(EXPEDITE_NOT_ALLOWED, {}))
        elif not facts.expedite_justification.strip():
            add(Refusal(JUSTIFICATION_REQUIRED, {}))

    return refusals
