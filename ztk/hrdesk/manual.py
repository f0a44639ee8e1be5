"""HR manual add (管理员手动添加): HR fills a missing slot with a `manual` punch, or voids one.

The punch goes through the one door (`record_punches`), the day is recomputed in the same
transaction (so the employee's sheet shows it at once, or nothing happens at all), and the
change is audited as ``corrections.manual_add`` with the day before and after. A wrong
manual punch is voided, never deleted (``corrections.manual_void``). The employee is told
either way.

Whether manual adds count against the employee's monthly correction limit is the group's
``CorrectionPolicy.manual_adds_count`` [no]: the corrections app's ``used_in_period`` counts
valid manual punches when it is on; the add records the setting in its audit event and
refreshes the stored counter. Manual adds themselves are never refused for the limit: HR
has the last word.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from ztk.attendance import page_selectors as pages
from ztk.attendance.days import (
    Window,
    attendance_date_at,
    closed_period,
    day_windows,
    employee_zone,
)
from ztk.attendance.explain import SLOT_STATUS, slot_label
from ztk.attendance.models import AttendanceDay, AttendancePeriod
from ztk.attendance.services import recompute
from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.parse import moment_in_range
from ztk.core.text import clean_text
from ztk.corrections.models import QuotaCounter
from ztk.corrections.services import policy_row_for, quota_refresh
from ztk.engine import affected_dates
from ztk.engine.periods import period_of
from ztk.notifications.services import notify
from ztk.org.models import Employee
from ztk.org.rules import can_use_hr_desk as can_manual_add
from ztk.org.rules import employee_of
from ztk.org.selectors import employee_matches, period_start_day
from ztk.punches.models import Punch, PunchSource, PunchVoid
from ztk.punches.services import REFUSAL_MESSAGES, PunchInput, punch_void, record_punches

# Stable error codes (tests and clients import these).
REMARK_REQUIRED = "remark_required"
NO_TIMES = "no_times"
INVALID_TIME = "invalid_time"
FUTURE_TIME = "future_time"
PERIOD_CLOSED = "period_closed"
EMPLOYEE_INACTIVE = "employee_inactive"
NO_SHIFT = "no_shift"
SLOT_NOT_FOUND = "slot_not_found"
TIME_OUTSIDE_SLOT_WINDOW = "time_outside_slot_window"
SLOT_ALREADY_PUNCHED = "slot_already_punched"
DUPLICATE_SLOT = "duplicate_slot"
OWN_ATTENDANCE = "own_attendance"
NOT_MANUAL = "not_manual"
IMPOSSIBLE_TIME = "impossible_timestamp"  # the one door's code (punches.services)

ADD_ACTION = "corrections.manual_add"
VOID_ACTION = "corrections.manual_void"
PUNCH_AUDIT_ACTION = "punches.manual_add"
NOTIFY_ADDED = "manual_punch_added"
NOTIFY_VOIDED = "manual_punch_voided"
MIN_REMARK = 2

MESSAGES = {
    REMARK_REQUIRED: gettext_lazy("A remark of at least 2 characters is required."),
    NO_TIMES: gettext_lazy("Enter at least one time to add."),
    INVALID_TIME: gettext_lazy("The time has no time zone."),
    FUTURE_TIME: gettext_lazy("%(time)s is in the future."),
    PERIOD_CLOSED: gettext_lazy(
        "The attendance period %(start)s – %(end)s is closed; its days cannot be changed."
    ),
    EMPLOYEE_INACTIVE: gettext_lazy("%(name)s is no longer active."),
    NO_SHIFT: gettext_lazy("There is no shift on %(day)s, so there is no slot to fill."),
    SLOT_NOT_FOUND: gettext_lazy("There is no slot “%(slot)s” on %(day)s."),
    TIME_OUTSIDE_SLOT_WINDOW: gettext_lazy(
        "%(time)s is outside the punch window of %(slot)s (%(start)s – %(end)s)."
    ),
    "future_day": gettext_lazy("%(day)s is in the future."),
    "outside_every_window": gettext_lazy("%(time)s is outside every punch window of %(day)s."),
    "other_day": gettext_lazy("%(time)s belongs to the attendance of another day, not to %(day)s."),
    SLOT_ALREADY_PUNCHED: gettext_lazy(
        "%(slot)s already has a valid punch at %(time)s; void that punch first if it is wrong."
    ),
    DUPLICATE_SLOT: gettext_lazy("Two times were given for %(slot)s."),
    OWN_ATTENDANCE: gettext_lazy(
        "You cannot change your own attendance; ask another HR administrator."
    ),
    NOT_MANUAL: gettext_lazy("Only punches added by HR can be voided here."),
    IMPOSSIBLE_TIME: REFUSAL_MESSAGES[IMPOSSIBLE_TIME],
}


def refused(code: str, message_key: str | None = None, **params: Any) -> DomainError:
    """The refusal `code` of the HR desk's hand-entered punches (stable code, translated
    message from MESSAGES, `params` as details); paper forms share some of them."""
    template = MESSAGES[message_key or code]
    return DomainError(code, template % params if params else template, details=params or None)


# --------------------------------------------------------------------------- helpers


def slot_name(key: str, windows: Sequence[Window]) -> str:
    return slot_label(key, len({w.segment for w in windows}) or 1)


def time_in_window(window: Window, clock: time) -> datetime:
    """The moment with wall-clock time `clock` that lies in the slot's window.

    A time field gives only HH:MM; for a night shift the check-out is on the next day. The
    candidates are that time on the day before, the day itself and the day after; the one
    inside the window wins, else the one nearest the expected time (refused later, with
    the window in the message).
    """
    tz = window.expected.tzinfo
    base = window.expected.date()
    candidates = [
        datetime.combine(base + timedelta(days=offset), clock, tzinfo=tz) for offset in (-1, 0, 1)
    ]
    inside = [c for c in candidates if window.contains(c)]
    pool = inside or candidates
    return min(pool, key=lambda c: abs(c - window.expected))


def _clock(moment: datetime, tz: ZoneInfo, day: date) -> str:
    local = moment.astimezone(tz)
    return local.strftime("%H:%M") if local.date() == day else local.strftime("%m-%d %H:%M")


def day_snapshot(row: AttendanceDay | None) -> dict[str, Any]:
    """What the audit keeps of a day: its status and each slot's status and punch."""
    if row is None:
        return {"status": None, "slots": []}
    return {
        "status": row.status,
        "provisional": row.provisional,
        "slots": [
            {
                "key": s.get("key"),
                "status": s.get("status"),
                "punch_id": s.get("punch_id"),
                "punch_at": s.get("punch_at"),
                "punch_source": s.get("punch_source"),
            }
            for s in row.slots or []
        ],
    }


# Language-dependent pieces of a notice, rendered in each language by ``notify``.
lazy_date = lazy(formats.date_format, str)


def _punch_lines(targets: Sequence[Any], windows: Sequence[Window], tz: ZoneInfo, day: date) -> str:
    return ", ".join(
        f"{slot_name(t.window.key, windows)} {_clock(t.at, tz, day)}"
        for t in sorted(targets, key=lambda t: t.at)
    )


lazy_punch_lines = lazy(_punch_lines, str)


def _day_url(day: date) -> str:
    try:
        return reverse("attendance:day", args=[day.isoformat()])
    except NoReverseMatch:
        return ""


def _notify(
    *, kind: str, employee: Employee, title: Any, body: Any, params: dict, url: str, data: dict
) -> None:
    """Tell the employee, inside the caller's transaction, in their own language."""
    notify(
        kind=kind,
        recipients=[employee.user],
        title=title,
        body=body,
        params=params,
        url=url,
        data=data,
        department=employee.department,
    )


def _check_actor(actor: Any, employee: Employee) -> None:
    if not can_manual_add(actor):
        raise PermissionDeniedError()
    me = employee_of(actor)
    if me is not None and me.pk == employee.pk:
        raise refused(OWN_ATTENDANCE)


def _counts_against_quota(employee: Employee) -> bool:
    return bool(policy_row_for(employee.attendance_group).manual_adds_count)


def _refresh_quota(employee: Employee, day: date) -> None:
    """Keep the stored limit counter right when the policy counts manual adds."""
    start, _end = period_of(day, period_start_day())
    if QuotaCounter.objects.filter(employee=employee, period_start=start).exists():
        quota_refresh(employee, start)


# --------------------------------------------------------------------------- add


@dataclass(frozen=True)
class _Target:
    window: Window
    at: datetime


def _targets(
    times: Sequence[tuple[str, datetime] | datetime],
    windows: list[Window],
    *,
    day: date,
    tz: ZoneInfo,
    now: datetime,
) -> list[_Target]:
    by_key = {w.key: w for w in windows}
    targets: list[_Target] = []
    for item in times:
        key, moment = item if isinstance(item, tuple) else (None, item)
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise refused(INVALID_TIME)
        if moment.utcoffset() is None:
            raise refused(INVALID_TIME)
        if not moment_in_range(moment):
            raise refused(IMPOSSIBLE_TIME)
        shown = _clock(moment, tz, day)
        if moment > now:
            raise refused(FUTURE_TIME, time=shown)
        if key is None:
            window = next((w for w in windows if w.contains(moment)), None)
            if window is None:
                raise refused(TIME_OUTSIDE_SLOT_WINDOW, "outside_every_window", time=shown, day=day)
        else:
            window = by_key.get(key)
            if window is None:
                raise refused(SLOT_NOT_FOUND, slot=key, day=day)
            if not window.contains(moment):
                raise refused(
                    TIME_OUTSIDE_SLOT_WINDOW,
                    time=shown,
                    slot=slot_name(key, windows),
                    start=_clock(window.start, tz, day),
                    end=_clock(window.end, tz, day),
                )
        if any(t.window.key == window.key for t in targets):
            raise refused(DUPLICATE_SLOT, slot=slot_name(window.key, windows))
        targets.append(_Target(window, moment))
    return targets


def manual_punch_add(
    *,
    actor: Any,
    employee: Employee,
    day: date | None,
    times: Sequence[tuple[str, datetime] | datetime],
    remark: str,
    now: datetime | None = None,
) -> list[Punch]:
    """Fill missing slots of `employee` on attendance date `day` with HR manual punches.

    `times` are aware datetimes, each optionally paired with the slot key it is meant for
    (``("out1", …)``); a bare time goes to the slot whose window contains it. All or
    nothing: one refused time refuses the lot and nothing is stored. HR and sysadmins only,
    never for their own attendance. `day` None (the API names a moment, not a day): the
    attendance date the first time belongs to.
    """
    now = now or timezone.now()
    _check_actor(actor, employee)
    remark = clean_text(remark, field="remark", label=gettext_lazy("Remark"), multiline=True)
    if len(remark) < MIN_REMARK:
        raise refused(REMARK_REQUIRED)
    if not times:
        raise refused(NO_TIMES)
    if day is None:
        first = times[0][1] if isinstance(times[0], tuple) else times[0]
        if not isinstance(first, datetime) or first.utcoffset() is None:
            raise refused(INVALID_TIME)
        if not moment_in_range(first):
            raise refused(IMPOSSIBLE_TIME)
        day = attendance_date_at(employee, first)
    if not employee.active:
        raise refused(EMPLOYEE_INACTIVE, name=employee.name)
    period = closed_period(employee, day)
    if period is not None:
        raise refused(PERIOD_CLOSED, start=period.start, end=period.end)
    tz = employee_zone(employee)
    if day > now.astimezone(tz).date():
        raise refused(FUTURE_TIME, "future_day", day=day)
    windows = day_windows(employee, day)
    if not windows:
        raise refused(NO_SHIFT, day=day)
    targets = _targets(times, windows, day=day, tz=tz, now=now)

    with transaction.atomic():
        # One manual add per employee at a time: the "already punched" check stays true.
        Employee.objects.select_for_update().filter(pk=employee.pk).values_list("pk").first()
        recompute([(employee.pk, day)], now=now)  # judge against the day as it is now
        row = AttendanceDay.objects.filter(employee=employee, day=day).first()
        before = day_snapshot(row)
        slots = {s.get("key"): s for s in (row.slots if row is not None else [])}
        for target in targets:
            slot = slots.get(target.window.key) or {}
            if slot.get("punch_id"):
                punched = datetime.fromisoformat(slot["punch_at"]) if slot.get("punch_at") else None
                raise refused(
                    SLOT_ALREADY_PUNCHED,
                    slot=slot_name(target.window.key, windows),
                    time=_clock(punched, tz, day) if punched else "",
                )

        result = record_punches(
            [
                PunchInput(
                    at=t.at,
                    source=PunchSource.MANUAL,
                    employee_id=employee.pk,
                    remark=remark,
                    # Unique per add: a voided manual punch at the same second may be re-added.
                    dedup_key=f"manual:{employee.pk}:{t.at.timestamp():.0f}:{uuid.uuid4().hex}",
                )
                for t in targets
            ],
            actor=actor,
            now=now,
            recompute=False,
            audit_action=PUNCH_AUDIT_ACTION,
            audit_extra={"employee_no": employee.employee_no, "day": day.isoformat()},
        )
        if result.rejected:
            refusal = result.rejected[0]
            raise DomainError(refusal.code, refusal.message)
        # Recompute here, not in record_punches' forgiving savepoint: the employee's day must
        # show the punch at once, or the whole add is undone.
        recompute(result.affected | {(employee.pk, day)}, now=now)
        row = AttendanceDay.objects.filter(employee=employee, day=day).first()
        filled = {s.get("key"): s.get("punch_id") for s in (row.slots if row is not None else [])}
        new_ids = set(result.punch_ids)
        for target in targets:
            if filled.get(target.window.key) not in new_ids:
                raise refused(
                    TIME_OUTSIDE_SLOT_WINDOW,
                    "other_day",
                    time=_clock(target.at, tz, day),
                    day=day,
                )
        punches = list(Punch.objects.filter(pk__in=result.punch_ids).order_by("at"))
        slot_of = {t.at: t.window.key for t in targets}
        counts = _counts_against_quota(employee)
        if counts:
            _refresh_quota(employee, day)
        record(
            ADD_ACTION,
            obj=row,
            actor=actor,
            before=before,
            after=day_snapshot(row),
            extra={
                "employee_id": employee.pk,
                "employee_no": employee.employee_no,
                "day": day.isoformat(),
                "punches": [
                    {"id": p.pk, "at": p.at.isoformat(), "slot": slot_of.get(p.at)} for p in punches
                ],
                "remark": remark,
                "counts_against_quota": counts,
            },
        )
        _notify(
            kind=NOTIFY_ADDED,
            employee=employee,
            title=gettext_lazy("HR added a punch for you on %(day)s"),
            body=gettext_lazy("%(punches)s. Remark: %(remark)s"),
            params={
                "day": lazy_date(day, "DATE_FORMAT"),
                "punches": lazy_punch_lines(targets, windows, tz, day),
                "remark": remark,
            },
            url=_day_url(day),
            data={
                "employee_no": employee.employee_no,
                "day": day.isoformat(),
                "punch_ids": [p.pk for p in punches],
            },
        )
    return punches


# --------------------------------------------------------------------------- void


def attendance_date_of(punch: Punch) -> date:
    """The attendance date whose slot uses the punch, else its local calendar date."""
    employee = punch.employee
    tz = employee_zone(employee)
    group = employee.attendance_group
    candidates = affected_dates(punch.at, tz, group.day_boundary_hour if group else 0)
    for row in AttendanceDay.objects.filter(employee=employee, day__in=candidates).only(
        "day", "slots"
    ):
        if any(s.get("punch_id") == punch.pk for s in row.slots or []):
            return row.day
    return punch.at.astimezone(tz).date()


def manual_punch_void(*, actor: Any, punch: Punch, reason: str) -> PunchVoid:
    """Void a wrong HR manual punch: audited, the punch stays, the day is recomputed."""
    employee = punch.employee
    _check_actor(actor, employee)
    if punch.source != PunchSource.MANUAL:
        raise refused(NOT_MANUAL)
    day = attendance_date_of(punch)
    period = closed_period(employee, day)
    if period is not None:
        raise refused(PERIOD_CLOSED, start=period.start, end=period.end)
    tz = employee_zone(employee)
    with transaction.atomic():
        before = day_snapshot(AttendanceDay.objects.filter(employee=employee, day=day).first())
        void = punch_void(actor=actor, punch=punch, reason=reason)
        row = AttendanceDay.objects.filter(employee=employee, day=day).first()
        if _counts_against_quota(employee):
            _refresh_quota(employee, day)
        record(
            VOID_ACTION,
            obj=punch,
            actor=actor,
            before=before,
            after=day_snapshot(row),
            extra={
                "employee_id": employee.pk,
                "employee_no": employee.employee_no,
                "day": day.isoformat(),
                "punch_at": punch.at.isoformat(),
                "reason": void.reason,
            },
        )
        _notify(
            kind=NOTIFY_VOIDED,
            employee=employee,
            title=gettext_lazy("HR voided a punch of yours on %(day)s"),
            body=gettext_lazy("The punch at %(time)s was voided. Reason: %(reason)s"),
            params={
                "day": lazy_date(day, "DATE_FORMAT"),
                "time": _clock(punch.at, tz, day),
                "reason": void.reason,
            },
            url=_day_url(day),
            data={
                "employee_no": employee.employee_no,
                "day": day.isoformat(),
                "punch_id": punch.pk,
            },
        )
    return void


# --------------------------------------------------------------------------- reads (page)

SEARCH_LIMIT = 20


def employee_search(query: str, *, limit: int = SEARCH_LIMIT) -> list[Employee]:
    """By name, employee number or pinyin initials ("zs" finds 张三). One query."""
    query = query.strip()[:60]
    if not query:
        return []
    qs: QuerySet[Employee] = (
        Employee.objects.select_related("department", "attendance_group")
        .filter(employee_matches(query))
        .order_by("-active", "employee_no")
    )
    return list(qs[:limit])


@dataclass(frozen=True)
class AddableSlot:
    """A slot HR may fill: no valid punch yet."""

    key: str
    label: str
    expected: str
    window: str
    status: str
    checked: bool


@dataclass
class ManualDay:
    employee: Employee
    day: date
    detail: Any  # ztk.attendance.page_selectors.DayDetail
    plan_slots: list[AddableSlot] = field(default_factory=list)  # when no result is stored
    addable: list[AddableSlot] = field(default_factory=list)
    closed: AttendancePeriod | None = None
    future: bool = False
    no_shift: bool = False

    @property
    def can_add(self) -> bool:
        return bool(self.addable) and self.closed is None and not self.future


def manual_day(*, employee: Employee, day: date, now: datetime | None = None) -> ManualDay:
    """The day as HR sees it on the manual-add page: slots, punches and what may be added.

    Reuses the attendance day view's selector; when no result is stored yet (nothing was
    punched and the day has not been finalised), the slots come from the plan.
    """
    now = now or timezone.now()
    tz = employee_zone(employee)
    detail = pages.day_detail(employee=employee, day=day)
    view = ManualDay(employee=employee, day=day, detail=detail)
    view.closed = closed_period(employee, day)
    view.future = day > now.astimezone(tz).date()
    if detail.row is not None:
        view.no_shift = not detail.slots
        view.addable = [
            AddableSlot(
                key=s.key,
                label=s.label,
                expected=s.expected,
                window=s.window,
                status=s.status_label,
                checked=s.status == "missing",
            )
            for s in detail.slots
            if not s.punch_id and s.status != "exempt"
        ]
        return view
    windows = day_windows(employee, day)
    view.no_shift = not windows
    view.plan_slots = view.addable = [
        AddableSlot(
            key=w.key,
            label=slot_name(w.key, windows),
            expected=_clock(w.expected, tz, day),
            window=f"{_clock(w.start, tz, day)}–{_clock(w.end, tz, day)}",
            status=str(SLOT_STATUS["missing"]),
            checked=True,
        )
        for w in windows
    ]
    return view
