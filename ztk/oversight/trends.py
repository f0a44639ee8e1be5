"""Analytics trend figures (issue 13, item 2): THE owner of every trend number.

``trends(metric, by=, period=, start=, end=, scope=)`` answers a list of ``Point``: one per
(period, key) — the period is the Monday of an ISO week or the first of a month, the key a
department code, an attendance group code, a reason category code, a channel, or ``""``
for the whole scope. The pages (/hr/analytics/), the API (``GET /api/v1/analytics/trends``)
and the weekly digest call it; docs/analytics.md says what each figure means.

Every figure is aggregated in the database (``GROUP BY`` period and key, one query per
metric, the same SQL on SQLite and PostgreSQL). The one exception is the approval lead
time: percentiles have no portable SQL aggregate, so the database computes each decided
request's period and key and hands back its (submitted, decided) times, sorted; the nearest-
rank p50/p90 and the share decided within the SLA are taken from that stream (one pass, no
query per row).

Metrics:

- ``late``, ``early``: late arrivals / early leaves (slots) on working days;
- ``missing``: missing punches (missing check-in + missing check-out slots);
- ``absent``: absent days (``AttendanceDay.absent_days``, halves count 0.5);
- ``field``: field punches (外勤: web/phone punches outside every fence, not voided), by
  the punch's local date in the company zone;
- ``corrections``: correction requests (withdrawn and cancelled ones not counted), by the
  day they correct; ``by`` may also be ``category`` (reason category) or ``channel``;
- ``lead_time``: hours from submission to the final decision of approved and rejected
  requests, by the day of the decision (company zone): ``value`` = p50, ``p90``, ``n``
  decided and ``within_sla`` = the share decided before the SLA deadline (the chain's
  working days, ``approvals.sla``).
- ``reminder_punched``: punch reminders sent (``n``) and how many were followed by the
  person's own punch on time in the slot's window (``value``; ``late`` after the tolerance;
  ``rate`` in % of ``n``), by the reminded attendance date;
- ``reminder_before_after``: missing punches per 100 working days in the whole weeks
  before and after reminders were switched on, for everyone or per group around each
  group's own date (``before_after_by_group``).

For the day metrics (late … field) ``days`` is the number of working employee-days of the
period and key (status normal, abnormal or absent: rest days, holidays and leave are not
working days) and ``rate`` the metric per 100 of them, so departments of different size
compare.

Scope: ``Scope.everyone()`` for HR; ``scope_for(user)`` gives a department head the
departments they head and those below (``org.selectors.departments_headed_by``), by the
employee's current department.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    DecimalField,
    Exists,
    F,
    FloatField,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    TruncDate,
    TruncMonth,
    TruncWeek,
)
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ztk.approvals.models import DEFAULT_DEADLINE_WORKING_DAYS
from ztk.attendance.models import AttendanceDay, DayStatus
from ztk.audit.models import AuditEvent
from ztk.core.db import without_jit
from ztk.core.errors import DomainError
from ztk.corrections.models import Channel, CorrectionRequest, ReasonCategory, Status
from ztk.engine import SOURCE_SLOT_STATUS
from ztk.notifications.models import ReminderSent
from ztk.org.models import AttendanceGroup, Department
from ztk.org.rules import employee_of, is_hr
from ztk.org.selectors import departments_headed_by
from ztk.org.zones import default_zone_name
from ztk.punches.models import Punch
from ztk.scheduling.selectors import working_days_between

DAY_METRICS = ("late", "early", "missing", "absent", "field")
REMINDER_METRICS = ("reminder_punched", "reminder_before_after")
METRICS = (*DAY_METRICS, "corrections", "lead_time", *REMINDER_METRICS)
PERIODS = ("week", "month")
BY_ALL = ("all", "department", "group")
BY_CORRECTIONS = (*BY_ALL, "category", "channel")
BY_BEFORE_AFTER = ("all", "group")
MAX_DAYS = 3 * 366 + 1  # the longest range one call may ask for
WORKING = (DayStatus.NORMAL, DayStatus.ABNORMAL, DayStatus.ABSENT)
NOT_COUNTED = (Status.WITHDRAWN, Status.CANCELLED)
DECIDED = (Status.APPROVED, Status.REJECTED)
DRILL_LIMIT = 500

# Stable refusal codes (the API answers 422 with them).
BAD_METRIC = "analytics_bad_metric"
BAD_BY = "analytics_bad_by"
BAD_PERIOD = "analytics_bad_period"
BAD_RANGE = "analytics_bad_range"
RANGE_TOO_LONG = "analytics_range_too_long"

METRIC_LABELS = {
    "late": _("Late arrivals"),
    "early": _("Early leaves"),
    "missing": _("Missing punches"),
    "absent": _("Absent days"),
    "field": _("Field punches"),
    "corrections": _("Correction requests"),
    "lead_time": _("Approval lead time"),
    "reminder_punched": _("Reminded, then punched on time"),
    "reminder_before_after": _("Missing punches before and after reminders"),
}
BY_LABELS = {
    "all": _("Everyone"),
    "department": _("Department"),
    "group": _("Attendance group"),
    "category": _("Reason category"),
    "channel": _("Channel"),
}
PERIOD_LABELS = {"week": _("Week"), "month": _("Month")}


@dataclass(frozen=True)
class Scope:
    """Whose figures: everyone, or the employees of some departments."""

    everyone_: bool
    department_ids: frozenset[int] = frozenset()

    @classmethod
    def everyone(cls) -> Scope:
        return cls(True)

    @classmethod
    def departments(cls, ids: Iterable[int]) -> Scope:
        return cls(False, frozenset(ids))

    def q(self, via: str = "employee__") -> Q:
        if self.everyone_:
            return Q()
        return Q(**{f"{via}department_id__in": sorted(self.department_ids)})


def scope_for(user: Any) -> Scope | None:
    """HR: everyone; a department head: their departments and below; else None."""
    if is_hr(user):
        return Scope.everyone()
    ids = departments_headed_by(employee_of(user))
    return Scope.departments(ids) if ids else None


@dataclass(frozen=True)
class Point:
    period: date
    key: str
    label: str
    value: float
    days: int = 0
    rate: float | None = None
    p90: float | None = None
    n: int = 0
    within_sla: float | None = None
    sla_days: int | None = None
    late: int | None = None  # reminder_punched: punched after the tolerance
    side: str | None = None  # reminder_before_after: "before" or "after"
    since: date | None = None  # reminder_before_after: reminders switched on
    change: float | None = None  # reminder_before_after: (after − before) / before
    reached: bool | None = None  # reminder_before_after: the 30 % drop

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "days": self.days,
            "rate": self.rate,
            "p90": self.p90,
            "n": self.n,
            "within_sla": self.within_sla,
            "sla_days": self.sla_days,
            "late": self.late,
            "side": self.side,
            "since": self.since,
            "change": self.change,
            "reached": self.reached,
        }


@dataclass(frozen=True)
class Query:
    """A checked request for figures (``check`` builds it)."""

    metric: str
    by: str
    period: str
    start: date
    end: date

    @property
    def bucket_days(self) -> int:
        return 7 if self.period == "week" else 31


def refuse(code: str, message: Any, **details: Any) -> DomainError:
    return DomainError(code, message, details=details or None)


def check(metric: str, by: str, period: str, start: date | None, end: date | None) -> Query:
    """Refuse what ``trends`` cannot answer, with the stable codes above."""
    if metric not in METRICS:
        raise refuse(BAD_METRIC, _("Unknown metric; use one of %(m)s.") % {"m": ", ".join(METRICS)})
    allowed = {"corrections": BY_CORRECTIONS, "reminder_before_after": BY_BEFORE_AFTER}.get(
        metric, BY_ALL
    )
    if by not in allowed:
        raise refuse(
            BAD_BY,
            _("This metric cannot be split that way; use one of %(b)s.")
            % {"b": ", ".join(allowed)},
        )
    if period not in PERIODS:
        raise refuse(BAD_PERIOD, _("The period must be week or month."))
    if metric == "reminder_before_after" and period != "week":
        raise refuse(BAD_PERIOD, _("Before and after reminders is compared in whole weeks."))
    if start is None or end is None or end < start:
        raise refuse(BAD_RANGE, _("Give a first and a last day, the first not after the last."))
    if (end - start).days + 1 > MAX_DAYS:
        raise refuse(RANGE_TOO_LONG, _("Ask for at most three years at a time."))
    return Query(metric, by, period, start, end)


def period_start(day: date, period: str) -> date:
    """The Monday of ``day``'s ISO week, or the first of its month."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(start: date, period: str) -> date:
    if period == "week":
        return start + timedelta(days=6)
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def _zone() -> ZoneInfo:
    return ZoneInfo(default_zone_name())


def _trunc(field_name: str, period: str, *, tz: ZoneInfo | None = None) -> Any:
    cls = TruncWeek if period == "week" else TruncMonth
    if tz is None:
        return cls(field_name, output_field=DateField())
    return cls(field_name, tzinfo=tz)


# --- the keys (department / group / category / channel) -----------------------------------

KEY_FIELDS = {
    "department": "employee__department_id",
    "group": "employee__attendance_group_id",
    "category": "category_id",
    "channel": "channel",
}


def _labels(by: str) -> dict[Any, tuple[str, str]]:
    """key value (id or channel) -> (code, name)."""
    if by == "department":
        return {pk: (c, n) for pk, c, n in Department.objects.values_list("pk", "code", "name")}
    if by == "group":
        return {
            pk: (c, n) for pk, c, n in AttendanceGroup.objects.values_list("pk", "code", "name")
        }
    if by == "category":
        return {pk: (c, n) for pk, c, n in ReasonCategory.objects.values_list("pk", "code", "name")}
    if by == "channel":
        return {value: (value, str(label)) for value, label in Channel.choices}
    return {}


def key_label(by: str, raw: Any, labels: dict[Any, tuple[str, str]]) -> tuple[str, str]:
    if by == "all":
        return "", str(BY_LABELS["all"])
    if raw is None:
        return "-", str(_("(none)"))
    return labels.get(raw, (str(raw), str(raw)))


def key_filter(by: str, key: str, via: str = "employee__") -> Q:
    """Rows of one key (its code as in ``Point.key``); "-" is "none"."""
    if by == "all":
        return Q()
    if by == "department":
        return (
            Q(**{f"{via}department__isnull": True})
            if key == "-"
            else Q(**{f"{via}department__code": key})
        )
    if by == "group":
        return (
            Q(**{f"{via}attendance_group__isnull": True})
            if key == "-"
            else Q(**{f"{via}attendance_group__code": key})
        )
    if by == "category":
        return Q(category__code=key)
    return Q(channel=key)


# --- the queries ---------------------------------------------------------------------------


def day_rows(q: Query, scope: Scope) -> QuerySet[AttendanceDay]:
    return AttendanceDay.objects.filter(
        scope.q(), day__gte=q.start, day__lte=q.end, status__in=WORKING
    )


def _day_value(metric: str) -> Any:
    if metric == "late":
        return Sum("late_count")
    if metric == "early":
        return Sum("early_count")
    if metric == "missing":
        return Sum(F("missing_in_count") + F("missing_out_count"))
    return Sum("absent_days", output_field=DecimalField(max_digits=12, decimal_places=1))


def _roll(
    q: Query, rows: Iterable[dict[str, Any]], day_field: str
) -> dict[tuple[date, Any], dict[str, float]]:
    """Per-day (and key) sums from the database, added up into weeks or months: at most
    366 × keys rows, so the database never calls a date function per stored row (SQLite
    runs Django's date functions in Python, once per row)."""
    key = KEY_FIELDS.get(q.by)
    out: dict[tuple[date, Any], dict[str, float]] = {}
    starts: dict[date, date] = {}
    for r in rows:
        day = _as_date(r.pop(day_field))
        raw = r.pop(key) if key else None
        bucket = starts.get(day)
        if bucket is None:
            bucket = starts[day] = period_start(day, q.period)
        sums = out.setdefault((bucket, raw), {})
        for name, value in r.items():
            sums[name] = sums.get(name, 0.0) + float(value or 0)
    return out


def _per_day(qs: QuerySet[Any], q: Query, day_field: str, **aggregates: Any) -> Any:
    key = KEY_FIELDS.get(q.by)
    fields = [day_field, key] if key else [day_field]
    return qs.values(*fields).annotate(**aggregates).order_by()


def _working_days(q: Query, scope: Scope) -> dict[tuple[date, Any], int]:
    rolled = _roll(q, _per_day(day_rows(q, scope), q, "day", days=Count("id")), "day")
    return {k: int(v["days"]) for k, v in rolled.items()}


def _points(
    q: Query,
    values: dict[tuple[date, Any], float],
    days: dict[tuple[date, Any], int] | None,
) -> list[Point]:
    labels = _labels(q.by)
    keys = set(values) | set(days or {})
    out = []
    for bucket, raw in keys:
        code, label = key_label(q.by, raw, labels)
        value = float(values.get((bucket, raw), 0) or 0)
        worked = (days or {}).get((bucket, raw), 0)
        rate = round(100 * value / worked, 2) if days is not None and worked else None
        out.append(Point(bucket, code, label, value, days=worked, rate=rate))
    out.sort(key=lambda p: (p.period, p.key))
    return out


def field_punches(q: Query, scope: Scope, zone: ZoneInfo) -> QuerySet[Punch]:
    first = datetime.combine(q.start, datetime.min.time(), tzinfo=zone)
    after = datetime.combine(q.end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return Punch.objects.filter(
        scope.q(), field_punch=True, void__isnull=True, at__gte=first, at__lt=after
    )


def corrections(q: Query, scope: Scope) -> QuerySet[CorrectionRequest]:
    return CorrectionRequest.objects.filter(scope.q(), date__gte=q.start, date__lte=q.end).exclude(
        status__in=NOT_COUNTED
    )


def decided(q: Query, scope: Scope, zone: ZoneInfo) -> QuerySet[CorrectionRequest]:
    first = datetime.combine(q.start, datetime.min.time(), tzinfo=zone)
    after = datetime.combine(q.end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return CorrectionRequest.objects.filter(
        scope.q(), status__in=DECIDED, decided_at__gte=first, decided_at__lt=after
    )


def trends(
    metric: str,
    *,
    by: str = "all",
    period: str = "week",
    start: date | None,
    end: date | None,
    scope: Scope,
) -> list[Point]:
    """The figures of ``metric`` per period (and key), oldest first; see the module doc.

    Refuses (``DomainError``, codes ``analytics_*``) an unknown metric, split, period, a
    range that is empty or reversed, or longer than three years. Periods without any row
    are left out (the charts draw them as gaps at 0).
    """
    q = check(metric, by, period, start, end)
    if metric == "lead_time":
        return lead_times(q, scope)
    if metric == "reminder_punched":
        return reminder_punched(q, scope)
    if metric == "reminder_before_after":
        return before_after_points(q, scope)
    if metric in ("corrections", "field"):
        if metric == "corrections":
            per_day = _per_day(corrections(q, scope), q, "date", value=Count("id"))
            rolled = _roll(q, per_day, "date")
        else:
            zone = _zone()
            punches = field_punches(q, scope, zone).annotate(d=TruncDate("at", tzinfo=zone))
            rolled = _roll(q, _per_day(punches, q, "d", value=Count("id")), "d")
        values = {k: v["value"] for k, v in rolled.items()}
        days = _working_days(q, scope) if by in BY_ALL else None
        return _points(q, values, days)
    rolled = _roll(
        q, _per_day(day_rows(q, scope), q, "day", days=Count("id"), value=_day_value(metric)), "day"
    )
    values = {k: v["value"] for k, v in rolled.items()}
    return _points(q, values, {k: int(v["days"]) for k, v in rolled.items()})


# --- approval lead time --------------------------------------------------------------------


def nearest_rank(ordered: list[float], pct: int) -> float:
    """The smallest value with ``pct`` % of the (ascending) values at or below it."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def chain_days(chain: Any) -> int:
    """The SLA of a whole request: the working days of its steps that were not skipped
    (``approvals.models.DEFAULT_DEADLINE_WORKING_DAYS`` when a step does not say)."""
    total = 0
    for step in chain if isinstance(chain, list) else []:
        if not isinstance(step, dict) or step.get("skipped"):
            continue
        days = step.get("deadline_working_days")
        if not isinstance(days, int) or days < 1:
            days = DEFAULT_SLA.get(str(step.get("kind")), 2)
        total += days
    return max(total, 1)


DEFAULT_SLA = {str(k): v for k, v in DEFAULT_DEADLINE_WORKING_DAYS.items()}


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def within_sla(submitted: date, decided_on: date, sla_days: int, work: list[date]) -> bool:
    """Decided by the end of the ``sla_days``-th working day after the day of submission
    (``approvals.sla.step_deadline`` for a whole request): fewer than ``sla_days``
    working days lie strictly between the submission day and the decision day."""
    between = bisect_left(work, decided_on) - bisect_right(work, submitted)
    return between < sla_days


class JsonText(Func):
    """A JSON column as its text, undecoded: SQLite stores JSON as text; PostgreSQL casts
    jsonb to text. (A plain ``Cast`` still runs the JSON field's decoder on SQLite.)"""

    template = "%(expressions)s"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(%(expressions)s)::text", **extra)


def _lead_rows(q: Query, scope: Scope, zone: ZoneInfo) -> Iterator[tuple[Any, ...]]:
    """(key, submitted, decided, chain) of the decided requests; the period is worked out
    from the decision's local date in Python (a date function per row costs more)."""
    key = KEY_FIELDS.get(q.by)
    fields = [key] if key else []
    rows = (
        decided(q, scope, zone).order_by().values_list(*fields, "created_at", "decided_at", "chain")
    )
    for row in rows.iterator(chunk_size=5000):
        yield row if key else (None, *row)


def lead_times(q: Query, scope: Scope) -> list[Point]:
    zone = _zone()
    labels = _labels(q.by)
    work = working_days_between(q.start - timedelta(days=400), q.end + timedelta(days=60))
    groups: dict[tuple[date, Any], list[tuple[float, bool, int]]] = {}
    starts: dict[date, date] = {}
    sla_of: dict[str, int] = {}  # chains repeat (one per policy and approvers): parse each once
    for raw, created, decided_at, chain in _lead_rows(q, scope, zone):
        hours = max((decided_at - created).total_seconds(), 0) / 3600
        sla = sla_of.get(chain) if isinstance(chain, str) else chain_days(chain)
        if sla is None:
            sla = sla_of[chain] = chain_days(_json(chain))
        decided_on = decided_at.astimezone(zone).date()
        ok = within_sla(created.astimezone(zone).date(), decided_on, sla, work)
        bucket = starts.get(decided_on)
        if bucket is None:
            bucket = starts[decided_on] = period_start(decided_on, q.period)
        groups.setdefault((bucket, raw), []).append((hours, ok, sla))
    out = []
    for (bucket, raw), items in groups.items():
        code, label = key_label(q.by, raw, labels)
        ordered = sorted(h for h, _ok, _sla in items)
        slas = sorted(s for _h, _ok, s in items)
        out.append(
            Point(
                bucket,
                code,
                label,
                round(nearest_rank(ordered, 50), 1),
                p90=round(nearest_rank(ordered, 90), 1),
                n=len(items),
                within_sla=round(sum(1 for _h, ok, _s in items if ok) / len(items), 3),
                sla_days=int(nearest_rank([float(s) for s in slas], 50)),
            )
        )
    out.sort(key=lambda p: (p.period, p.key))
    return out


# --- days of the week and hours ------------------------------------------------------------

ANOMALIES = F("late_count") + F("early_count") + F("missing_in_count") + F("missing_out_count")


def anomaly_weekdays(start: date, end: date, scope: Scope) -> dict[int, float]:
    """Anomalies (late + early + missing slots + absent days) per ISO weekday (1 = Monday)."""
    q = check("late", "all", "week", start, end)
    rows = (
        day_rows(q, scope)
        .values("day")
        .annotate(slots=Sum(ANOMALIES), absent=Sum(Cast("absent_days", FloatField())))
        .order_by()
    )
    out = dict.fromkeys(range(1, 8), 0.0)
    for r in rows:
        out[r["day"].isoweekday()] += float(r["slots"] or 0) + float(r["absent"] or 0)
    return out


def anomaly_hours(start: date, end: date, scope: Scope) -> dict[int, int]:
    """Correction requests per local hour of the slot they fill (its scheduled time; the
    requested time when the slot had none): when in the day punches go missing."""
    q = check("corrections", "all", "week", start, end)
    zone = _zone()
    rows = (
        corrections(q, scope)
        .annotate(
            h=ExtractHour(
                _coalesce("slot_expected", "requested_time"),
                tzinfo=zone,
            )
        )
        .values("h")
        .annotate(n=Count("id"))
        .order_by()
    )
    out = dict.fromkeys(range(24), 0)
    for r in rows:
        if r["h"] is not None:
            out[int(r["h"])] = r["n"]
    return out


def _coalesce(*names: str) -> Any:
    return Coalesce(*names, output_field=DateTimeField())


# --- reminders: before and after ----------------------------------------------------------


@dataclass(frozen=True)
class BeforeAfter:
    """The missed-punch rate (missing slots per 100 working days) in equal windows before
    and after reminders were switched on."""

    since: date | None
    how: str  # "audit", "sent" or "" (no reminders found)
    before: float | None
    after: float | None
    before_days: int = 0
    after_days: int = 0
    window_weeks: int = 0
    change: float | None = None  # (after - before) / before, e.g. -0.35
    target: float = -0.30
    weeks: list[Point] = field(default_factory=list)

    @property
    def reached(self) -> bool | None:
        if self.change is None:
            return None
        return self.change <= self.target


REMINDER_KINDS = ("punch_in", "punch_out", "missed_punch")


def reminders_since() -> tuple[date | None, str]:
    """When punch reminders were switched on: the first audited save of a group's reminder
    settings with one of them on, or else the first punch reminder sent, whichever is
    earlier (a group without settings has them on by default, so the first one sent is
    when the feature started working). (None, "") when neither exists."""
    zone = _zone()
    found: list[tuple[date, str]] = []
    for at, changes in (
        AuditEvent.objects.filter(
            action__in=("notifications.reminders.create", "notifications.reminders.update")
        )
        .order_by("seq")
        .values_list("at", "changes")[:200]
    ):
        after = (changes or {}).get("after", changes or {})
        if isinstance(after, dict) and any(after.get(k) is True for k in REMINDER_KINDS):
            found.append((at.astimezone(zone).date(), "audit"))
            break
    first_sent = (
        ReminderSent.objects.filter(kind__in=REMINDER_KINDS)
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )
    if first_sent is not None:
        found.append((first_sent, "sent"))
    if not found:
        return None, ""
    return min(found)


def before_after(
    scope: Scope, *, today: date, since: date | None = None, max_weeks: int = 8
) -> BeforeAfter:
    """Missing-punch rate in the whole weeks before ``since`` (default: ``reminders_since``)
    and as many whole weeks from it (at most ``max_weeks`` each, up to last week)."""
    how = "given"
    if since is None:
        since, how = reminders_since()
    if since is None:
        return BeforeAfter(None, "", None, None)
    switch, weeks_after = switch_weeks(since, today, max_weeks)
    if weeks_after == 0:
        return BeforeAfter(since, how, None, None)
    start = switch - timedelta(days=7 * weeks_after)
    end = switch + timedelta(days=7 * weeks_after - 1)
    points = trends("missing", by="all", period="week", start=start, end=end, scope=scope)

    def rate(ps: list[Point]) -> tuple[float | None, int]:
        days = sum(p.days for p in ps)
        return (round(100 * sum(p.value for p in ps) / days, 2) if days else None), days

    before, before_days = rate([p for p in points if p.period < switch])
    after, after_days = rate([p for p in points if p.period >= switch])
    change = relative_change(before, after)
    return BeforeAfter(
        since,
        how,
        before,
        after,
        before_days,
        after_days,
        weeks_after,
        change,
        weeks=points,
    )


def switch_weeks(since: date, today: date, max_weeks: int = 8) -> tuple[date, int]:
    """The first whole week with reminders (the Monday on or after ``since``) and how many
    whole weeks each side of it compares: as many as have passed since, up to last Sunday
    (at most ``max_weeks``)."""
    switch = period_start(since, "week")
    if switch < since:
        switch += timedelta(days=7)
    last = period_start(today, "week") - timedelta(days=1)  # the end of last week
    return switch, max(0, min(max_weeks, ((last - switch).days + 1) // 7))


def relative_change(before: float | None, after: float | None) -> float | None:
    """(after − before) / before, rounded to 0.1 %; None without a rate before."""
    return round((after - before) / before, 3) if before and after is not None else None


def reminders_since_by_group(
    labels: dict[Any, tuple[str, str]] | None = None,
) -> dict[int, tuple[date, str]]:
    """``reminders_since`` for each attendance group (by id): the first audited save of the
    group's reminder settings with a punch reminder on, or else the first punch reminder
    sent to one of its people, whichever is earlier. Two queries whatever the number of
    groups (the settings' saves are few; the reminders are a ``MIN`` per group)."""
    zone = _zone()
    groups = {code: pk for pk, (code, _name) in (labels or _labels("group")).items()}
    found: dict[int, tuple[date, str]] = {}
    events = (
        AuditEvent.objects.filter(
            action__in=("notifications.reminders.create", "notifications.reminders.update")
        )
        .order_by("seq")
        .values_list("at", "changes")
    )
    for at, changes in events.iterator(chunk_size=500):
        after = (changes or {}).get("after", changes or {})
        if not isinstance(after, dict) or not any(after.get(k) is True for k in REMINDER_KINDS):
            continue
        pk = groups.get(str(after.get("group")))
        if pk is not None and pk not in found:
            found[pk] = (at.astimezone(zone).date(), "audit")
    first_sent = (
        ReminderSent.objects.filter(kind__in=REMINDER_KINDS, group__isnull=False)
        .values("group_id")
        .annotate(first=Min("day"))
        .order_by()
        .values_list("group_id", "first")
    )
    for pk, first in first_sent:
        if pk not in found or first < found[pk][0]:
            found[pk] = (first, "sent")
    return found


@dataclass(frozen=True)
class GroupBeforeAfter:
    """One attendance group's before/after: its code, name and figures."""

    key: str
    label: str
    result: BeforeAfter

    @property
    def switch(self) -> date | None:
        if self.result.since is None:
            return None
        return switch_weeks(self.result.since, self.result.since)[0]


def before_after_by_group(
    scope: Scope, *, today: date, max_weeks: int = 8
) -> list[GroupBeforeAfter]:
    """``before_after`` per attendance group, each around its own switch-on date
    (``reminders_since_by_group``): one ``GROUP BY`` (day, group) over the union of the
    groups' windows, each group's rates summed over its own weeks. Groups whose reminders
    were never switched on are left out, and so are groups without a working day of the
    scope in their windows (a department head's view lists the groups of their people)."""
    labels = _labels("group")
    since = reminders_since_by_group(labels)
    windows: dict[int, tuple[date, int]] = {
        pk: switch_weeks(d, today, max_weeks) for pk, (d, _how) in since.items()
    }
    spans = [
        (sw - timedelta(days=7 * n), sw + timedelta(days=7 * n - 1))
        for sw, n in windows.values()
        if n
    ]
    sums: dict[tuple[int, bool], list[float]] = {}  # (group, after) -> [missing, days]
    if spans:
        q = Query("missing", "group", "week", min(a for a, _b in spans), max(b for _a, b in spans))
        rows = (
            day_rows(q, scope)
            .values_list("day", "employee__attendance_group_id")
            .annotate(days=Count("id"), value=_day_value("missing"))
            .order_by()
        )
        for day, pk, days, value in rows:
            if pk not in windows:
                continue
            switch, n = windows[pk]
            if not n or not switch - timedelta(days=7 * n) <= day < switch + timedelta(days=7 * n):
                continue
            acc = sums.setdefault((pk, day >= switch), [0.0, 0.0])
            acc[0] += float(value or 0)
            acc[1] += days
    out = []
    for pk, (first, how) in since.items():
        switch, n = windows[pk]
        code, name = labels.get(pk, (str(pk), str(pk)))
        before_sum, after_sum = sums.get((pk, False)), sums.get((pk, True))
        if not n:
            if scope.everyone_:
                out.append(GroupBeforeAfter(code, name, BeforeAfter(first, how, None, None)))
            continue
        if before_sum is None and after_sum is None:
            continue  # nobody of the scope worked in this group's windows
        before = round(100 * before_sum[0] / before_sum[1], 2) if before_sum else None
        after = round(100 * after_sum[0] / after_sum[1], 2) if after_sum else None
        result = BeforeAfter(
            first,
            how,
            before,
            after,
            int(before_sum[1]) if before_sum else 0,
            int(after_sum[1]) if after_sum else 0,
            n,
            relative_change(before, after),
        )
        out.append(GroupBeforeAfter(code, name, result))
    out.sort(key=lambda g: g.key)
    return out


def before_after_points(q: Query, scope: Scope) -> list[Point]:
    """``reminder_before_after`` as trend points: two per group (or for everyone), the
    window before (``period`` its first Monday, ``side`` "before") and after (the switch
    week); ``value`` missing slots, ``days`` working days, ``rate`` per 100 of them, with
    the switch-on date, the change and whether the 30 % drop was reached. ``q.end`` is the
    day the comparison is made on (whole weeks up to the Sunday before it)."""
    if q.by == "all":
        whole = before_after(scope, today=q.end)
        found = [GroupBeforeAfter("", str(BY_LABELS["all"]), whole)] if whole.since else []
    else:
        found = before_after_by_group(scope, today=q.end)
    out = []
    for g in found:
        r = g.result
        switch = g.switch
        if switch is None or not r.window_weeks:
            continue
        for side, first, rate, days in (
            ("before", switch - timedelta(days=7 * r.window_weeks), r.before, r.before_days),
            ("after", switch, r.after, r.after_days),
        ):
            out.append(
                Point(
                    first,
                    g.key,
                    g.label,
                    round((rate or 0) * days / 100, 2),
                    days=days,
                    rate=rate,
                    side=side,
                    since=r.since,
                    change=r.change,
                    reached=r.reached,
                )
            )
    return out


# --- reminders: sent → punched within the window ------------------------------------------

PUNCH_REMINDERS = ("punch_in", "punch_out")
# Punches a person did not make themselves (correction, paper, HR's manual add): the
# engine's own list of sources that fill a slot as corrected / manual.
NOT_OWN_PUNCH = tuple(SOURCE_SLOT_STATUS)


def reminded(q: Query, scope: Scope) -> QuerySet[ReminderSent]:
    """The punch reminders of the range (by attendance date) whose slot was recorded."""
    return ReminderSent.objects.filter(
        scope.q(),
        kind__in=PUNCH_REMINDERS,
        day__gte=q.start,
        day__lte=q.end,
        window_start__isnull=False,
    )


def _punched(low: str, high: str) -> Exists:
    """The reminded person's own punch (not voided) in [low, high) of the reminder's row."""
    return Exists(
        Punch.objects.filter(
            employee_id=OuterRef("employee_id"),
            void__isnull=True,
            at__gte=OuterRef(low),
            at__lt=OuterRef(high),
        ).exclude(source__in=NOT_OWN_PUNCH)
    )


ON_TIME, LATE, NO_PUNCH = 2, 1, 0


def with_outcome(qs: QuerySet[ReminderSent]) -> Any:  # annotated: the stubs know no fields
    """``outcome``: ``ON_TIME`` when the person punched in the slot's window up to its
    on-time bound (the check-in's grace; a check-out's whole window), else ``LATE`` when
    they punched in the window after it, else ``NO_PUNCH`` (the second subquery runs only
    when the first found nothing)."""
    return qs.annotate(
        outcome=Case(
            When(_punched("window_start", "on_time_until"), then=Value(ON_TIME)),
            When(_punched("on_time_until", "window_end"), then=Value(LATE)),
            default=Value(NO_PUNCH),
        )
    )


def reminder_punched(q: Query, scope: Scope) -> list[Point]:
    """Per period and key: ``n`` punch reminders sent, ``value`` of them followed by the
    person's own punch on time in the slot's window, ``late`` by one after the tolerance,
    ``rate`` = 100 × value / n. One query (``GROUP BY`` day and key, an ``EXISTS`` per row
    on the (employee, at) index of punches)."""
    key = KEY_FIELDS.get(q.by)
    fields = ["day", key] if key else ["day"]
    grouped = (
        with_outcome(reminded(q, scope))
        .values(*fields, "outcome")
        .annotate(c=Count("id"))
        .order_by()
    )
    per_day: dict[tuple[Any, ...], dict[str, Any]] = {}
    with without_jit():
        for r in grouped:
            at = tuple(r[f] for f in fields)
            row = per_day.setdefault(at, {**dict(zip(fields, at, strict=True)), "n": 0})
            row["n"] += r["c"]
            row["value"] = row.get("value", 0) + (r["c"] if r["outcome"] == ON_TIME else 0)
            row["late"] = row.get("late", 0) + (r["c"] if r["outcome"] == LATE else 0)
    rolled = _roll(q, per_day.values(), "day")
    labels = _labels(q.by)
    out = []
    for (bucket, raw), sums in rolled.items():
        code, label = key_label(q.by, raw, labels)
        n = int(sums["n"])
        value = float(sums["value"])
        out.append(
            Point(
                bucket,
                code,
                label,
                value,
                rate=round(100 * value / n, 1) if n else None,
                n=n,
                late=int(sums["late"]),
            )
        )
    out.sort(key=lambda p: (p.period, p.key))
    return out


# --- drill-down ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillRow:
    employee_no: str
    name: str
    department: str
    day: date
    count: float
    detail: str = ""


def drill(
    metric: str,
    *,
    by: str,
    key: str,
    start: date,
    end: date,
    scope: Scope,
    weekday: int | None = None,
    hour: int | None = None,
) -> list[DrillRow]:
    """The people and days behind one point: the rows ``trends`` counted for ``key``
    between ``start`` and ``end`` (a point's period). With ``weekday`` (1 = Monday): the
    anomalies of that weekday (``anomaly_weekdays``, any ``metric`` of the days); with
    ``hour``: the correction requests of that hour (``anomaly_hours``). At most
    ``DRILL_LIMIT`` rows, the biggest first."""
    q = check(metric, by, "week", start, end)
    if metric == "reminder_punched":
        return _drill_reminders(q, key, scope)
    via = "employee__"
    people = ("employee__employee_no", "employee__name", "employee__department__name")
    if metric in ("late", "early", "missing", "absent"):
        value = {
            "late": F("late_count"),
            "early": F("early_count"),
            "missing": F("missing_in_count") + F("missing_out_count"),
            "absent": Cast("absent_days", FloatField()),
        }[metric]
        days: Any = day_rows(q, scope).filter(key_filter(by, key, via))
        if weekday is not None:
            value = ANOMALIES + Cast("absent_days", FloatField())
            days = days.annotate(wd=ExtractIsoWeekDay("day")).filter(wd=weekday)
        found: Any = (
            days.annotate(v=value)
            .filter(v__gt=0)
            .order_by("-v", "day", "employee__employee_no")
            .values_list(*people, "day", "v")[:DRILL_LIMIT]
        )
        return [DrillRow(no, name, dept or "", d, float(v)) for no, name, dept, d, v in found]
    zone = _zone()
    if metric == "field":
        grouped = (
            field_punches(q, scope, zone)
            .filter(key_filter(by, key, via))
            .annotate(d=TruncDate("at", tzinfo=zone))
            .values(*people, "d")
            .annotate(n=Count("id"))
            .order_by("-n", "d", "employee__employee_no")[:DRILL_LIMIT]
        )
        return [
            DrillRow(r[people[0]], r[people[1]], r[people[2]] or "", r["d"], r["n"])
            for r in grouped
        ]
    if metric == "corrections":
        requests: Any = corrections(q, scope).filter(key_filter(by, key, via))
        if hour is not None:
            requests = requests.annotate(
                h=ExtractHour(_coalesce("slot_expected", "requested_time"), tzinfo=zone)
            ).filter(h=hour)
        grouped = (
            requests.values(*people, "date")
            .annotate(n=Count("id"))
            .order_by("-n", "date", "employee__employee_no")[:DRILL_LIMIT]
        )
        return [
            DrillRow(r[people[0]], r[people[1]], r[people[2]] or "", r["date"], r["n"])
            for r in grouped
        ]
    leads: Any = (
        decided(q, scope, zone)
        .filter(key_filter(by, key, via))
        .order_by("-decided_at")
        .values_list(*people, "date", "created_at", "decided_at", "pk")[:DRILL_LIMIT]
    )
    out = []
    for no, name, dept, d, created, decided_at, pk in leads:
        hours = round(max((decided_at - created).total_seconds(), 0) / 3600, 1)
        out.append(DrillRow(no, name, dept or "", d, hours, detail=f"#{pk}"))
    out.sort(key=lambda r: -r.count)
    return out


def _drill_reminders(q: Query, key: str, scope: Scope) -> list[DrillRow]:
    """The people and days reminded who did not punch on time: late or not at all."""
    found = (
        with_outcome(reminded(q, scope).filter(key_filter(q.by, key)))
        .exclude(outcome=ON_TIME)
        .order_by("day", "employee__employee_no", "kind")
        .values_list(
            "employee__employee_no",
            "employee__name",
            "employee__department__name",
            "day",
            "kind",
            "outcome",
        )[:DRILL_LIMIT]
    )
    out = []
    with without_jit():
        found = list(found)
    for no, name, dept, d, kind, outcome in found:
        slot = gettext("check-in") if kind == "punch_in" else gettext("check-out")
        what = gettext("late") if outcome == LATE else gettext("no punch in the window")
        out.append(DrillRow(no, name, dept or "", d, 1.0, detail=f"{slot}: {what}"))
    return out
