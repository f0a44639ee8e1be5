"""The correction cut-off reminder (补卡提醒, docs/reminders.md): a few days before the last
day to apply, each person with missing punches not yet requested gets one reminder per
period, listing those days, with the last day to apply.

The last day to apply is the corrections app's (``attendance.slot_requests.deadlines_for``,
the date the day page and the missed-punch alert show); the requests under way come from
``requests_for``. One reminder per (person, period) (``ReminderSent``, key "").
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from ztk.attendance.models import AttendanceDay, DayStatus
from ztk.attendance.slot_requests import deadlines_for, requests_for
from ztk.engine.periods import period_of
from ztk.org.models import Employee
from ztk.org.selectors import period_start_day

from .models import NotificationKind, ReminderKind, ReminderSent
from .reminders import group_settings, opted_out, url_of
from .services import notify

# How far back open anomalies are looked for (the longest correction window in use).
LOOK_BACK = timedelta(days=62)

lazy_date = lazy(formats.date_format, str)


def send_cutoff_reminders(*, now: datetime | None = None) -> int:
    """Remind every person whose open anomalies' last day to apply is within the group's
    `cutoff_days`; returns how many were reminded."""
    now = now or timezone.now()
    kind = ReminderKind.CUTOFF.value
    groups = {
        pk: g
        for pk, g in group_settings().items()
        if g.settings.cutoff and not g.settings.is_quiet(now.astimezone(g.zone).time())
    }
    if not groups:
        return 0
    today = {pk: now.astimezone(g.zone).date() for pk, g in groups.items()}
    rows = list(
        AttendanceDay.objects.filter(
            employee__attendance_group_id__in=list(groups),
            employee__active=True,
            employee__user__is_active=True,
            day__gte=min(today.values()) - LOOK_BACK,
            day__lte=max(today.values()),
            status__in=[DayStatus.ABNORMAL, DayStatus.ABSENT],
        )
        .select_related("employee__user", "employee__attendance_group")
        .order_by("employee_id", "day")
    )
    if not rows:
        return 0
    first = min(r.day for r in rows)
    requested = requests_for({r.employee_id for r in rows}, first, max(r.day for r in rows))
    out = opted_out([kind], {r.employee.user_id for r in rows})
    start_day = period_start_day()
    # Open anomalies: missing slots without a pending or approved request, before today.
    open_days: dict[date, list[AttendanceDay]] = defaultdict(list)
    for row in rows:
        employee = row.employee
        if (employee.user_id, kind) in out or row.day >= today[employee.attendance_group_id or 0]:
            continue
        missing = [
            s["key"]
            for s in row.slots or []
            if s.get("status") == "missing"
            and s.get("key")
            and (row.employee_id, row.day, s["key"]) not in requested
        ]
        if missing:
            open_days[row.day].append(row)
    # The last day to apply, asked once per day for the people with an anomaly that day.
    due: dict[tuple[Employee, date], list[tuple[date, date]]] = defaultdict(list)
    for day, day_rows in open_days.items():
        deadlines = deadlines_for([r.employee for r in day_rows], day)
        for row in day_rows:
            last = deadlines.get(row.employee_id)
            group = groups[row.employee.attendance_group_id or 0]
            local_today = today[group.group_id]
            if last is None or last < local_today:
                continue
            if (last - local_today).days <= group.settings.cutoff_days:
                period = period_of(day, start_day)[0]
                due[(row.employee, period)].append((day, last))
    if not due:
        return 0
    sent_before = set(
        ReminderSent.objects.filter(kind=kind, day__in={p for _e, p in due}).values_list(
            "user_id", "day"
        )
    )
    url = url_of("attendance:home")
    count = 0
    for (employee, period), items in sorted(due.items(), key=lambda i: (i[0][0].pk, i[0][1])):
        if (employee.user_id, period) in sent_before:
            continue
        last = min(last for _day, last in items)
        days = sorted({day for day, _last in items})
        try:
            with transaction.atomic():
                ReminderSent.objects.create(user_id=employee.user_id, kind=kind, day=period)
                sent = notify(
                    kind=NotificationKind.CUTOFF_REMINDER,
                    recipients=[employee.user],
                    title=gettext_lazy("Apply for your missing punches by %(last_day)s"),
                    body=gettext_lazy(
                        "Missing punches not yet requested: %(days)s. You can apply for a "
                        "correction until %(last_day)s."
                    ),
                    params={
                        "last_day": lazy_date(last, "SHORT_DATE_FORMAT"),
                        "days": ", ".join(d.strftime("%m-%d") for d in days),
                    },
                    url=url,
                    data={
                        "days": [d.isoformat() for d in days],
                        "last_day_to_apply": last.isoformat(),
                        "period": period.isoformat(),
                    },
                    department=employee.department,
                )
        except IntegrityError:
            continue  # another run reminded them at the same moment
        count += len(sent)
    return count
