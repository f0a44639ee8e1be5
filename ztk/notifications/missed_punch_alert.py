"""Missed-punch alerts: tell each employee about a missing punch once, with the last day
to apply for a correction (补卡).

The correction window is the corrections app's business: it registers each person's last
day to apply with ``ztk.attendance.slot_requests`` (the policy's window and cut-off, the
same date the day page shows). Tests may pass `last_day_to_apply` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import formats
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ztk.attendance.days import employee_zone
from ztk.attendance.models import AttendanceDay, DayStatus
from ztk.attendance.slot_requests import deadlines_for, requests_for
from ztk.org.models import Employee

from .models import MissedPunchAlert, NotificationKind
from .services import notify

LastDayToApply = Callable[[Employee, date], "date | None"]


def _slot_label(slot: dict[str, Any], segments: int, zone: ZoneInfo) -> str:
    kind = _("check-in") if slot.get("kind") == "in" else _("check-out")
    if segments > 1:
        kind = f"{kind} {slot.get('segment', '')}".strip()
    expected = slot.get("expected")
    if expected:
        local = datetime.fromisoformat(expected).astimezone(zone)
        return f"{kind} {local:%H:%M}"
    return kind


def _body(
    missing: list[dict[str, Any]], segments: int, zone: ZoneInfo, last_day: date | None
) -> str:
    """The alert's text in the active language (``%`` doubled: it is a template)."""
    slots = ", ".join(_slot_label(s, segments, zone) for s in missing)
    body = _("Missing punch: %(slots)s.") % {"slots": slots}
    if last_day is not None:
        body += " " + _("You can apply for a correction until %(last_day)s.") % {
            "last_day": formats.date_format(last_day, "SHORT_DATE_FORMAT")
        }
    else:
        body += " " + _("Please contact HR if this is wrong.")
    return body.replace("%", "%%")


lazy_body = lazy(_body, str)
lazy_date = lazy(formats.date_format, str)


def _day_url(day: date) -> str:
    try:
        return reverse("attendance:day", args=[day.isoformat()])
    except NoReverseMatch:
        return ""


def _missing_slots(row: AttendanceDay) -> list[dict[str, Any]]:
    return [s for s in row.slots or [] if s.get("status") == "missing" and s.get("key")]


def notify_missed_punches(*, day: date, last_day_to_apply: LastDayToApply | None = None) -> int:
    """Alert every employee with a missing slot on `day` not reported before; returns how many.

    Looks at the day's abnormal and absent rows, final or provisional (a slot is "missing"
    only once its window has closed). Each (employee, day, slot) is reported once: a slot
    that goes missing later (e.g. a check-out after a late finalisation) gets its own alert.
    A slot with a correction request pending or already approved is not reported: the
    employee has acted on it (``ztk.attendance.slot_requests``).
    """
    rows = list(
        AttendanceDay.objects.filter(
            day=day,
            status__in=[DayStatus.ABNORMAL, DayStatus.ABSENT],
            employee__active=True,
            employee__user__is_active=True,
        )
        .select_related("employee__user", "employee__department", "employee__attendance_group")
        .order_by("employee_id")
    )
    done = set(MissedPunchAlert.objects.filter(day=day).values_list("employee_id", "slot"))
    requested = requests_for([row.employee_id for row in rows], day, day)
    if last_day_to_apply is None:
        deadlines = deadlines_for([row.employee for row in rows], day)

        def last_day_to_apply(employee: Employee, day: date) -> date | None:
            return deadlines.get(employee.pk)

    url = _day_url(day)
    sent = 0
    for row in rows:
        employee = row.employee
        missing = [
            s
            for s in _missing_slots(row)
            if (employee.pk, s["key"]) not in done and (employee.pk, day, s["key"]) not in requested
        ]
        if not missing:
            continue
        if _alert(employee, day, row, missing, last_day_to_apply, url):
            sent += 1
    return sent


def _alert(
    employee: Employee,
    day: date,
    row: AttendanceDay,
    missing: list[dict[str, Any]],
    last_day_to_apply: LastDayToApply,
    url: str,
) -> bool:
    zone = employee_zone(employee)
    segments = max((int(s.get("segment") or 1) for s in row.slots), default=1)
    last_day = last_day_to_apply(employee, day)
    try:
        with transaction.atomic():
            # The alert rows go first: the unique constraint makes a concurrent run back off.
            alerts = MissedPunchAlert.objects.bulk_create(
                [MissedPunchAlert(employee=employee, day=day, slot=s["key"]) for s in missing]
            )
            notifications = notify(
                kind=NotificationKind.MISSED_PUNCH,
                recipients=[employee.user],
                # rendered by ``notify`` in every language: each reader reads their own
                title=gettext_lazy("Missed punch on %(day)s"),
                body=lazy_body(missing, segments, zone, last_day),
                params={"day": lazy_date(day, "SHORT_DATE_FORMAT")},
                url=url,
                data={
                    "employee_no": employee.employee_no,
                    "day": day.isoformat(),
                    "slots": [s["key"] for s in missing],
                    "last_day_to_apply": last_day.isoformat() if last_day else None,
                },
                department=employee.department,
            )
            if notifications:
                MissedPunchAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(
                    notification=notifications[0]
                )
    except IntegrityError:
        return False  # another run reported these slots at the same moment
    return bool(notifications)
