"""Writes of the early warnings (预警): raise and send them, resolve or close one.

``warnings_run`` reads the rows (``warning_selectors``), judges them (``warning_checks``)
and raises every warning whose key is new: the row and its notification (HR and the
relevant department head, through ``notifications.services.notify``: inbox, e-mail, the
department's robots) are written in one transaction, so a warning is sent exactly when it
is stored — a second run finds the key and sends nothing. One audit event per run that
raised something (``oversight.warnings.run``); every resolve and close is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.notifications.models import NotificationKind
from ztk.notifications.services import notify
from ztk.org.models import Department, Employee
from ztk.org.rules import employee_of, is_auditor, is_hr

from . import checks, selectors
from . import warning_checks as wc
from . import warning_presentation as wp
from . import warning_selectors as ws
from .models import EarlyWarning, WarningState

NOTE_MAX = 500
NOTE_MIN = 2
NOTE_REQUIRED = "note_required"
NOT_OPEN = "warning_not_open"


@dataclass
class WarningRunResult:
    raised: int = 0
    sent: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def compute_alerts(now: datetime, limits: checks.Limits) -> list[wc.Alert]:
    """Every condition as of ``now`` (company-local dates)."""
    today = timezone.localtime(now).date()
    yesterday = today - timedelta(days=1)
    alerts = wc.close_to_limit(ws.quota_rows(today), limits=limits)
    windows = ws.windows_before(yesterday, max(1, limits.warn_dept_history_weeks) + 1)
    judged = windows[-1]
    jumps = wc.department_jumps(
        ws.department_windows(windows),
        week=ws.week_of(yesterday),
        last_days=ws.anomaly_days(*judged),
        limits=limits,
    )
    for alert in jumps:
        alert.params["first_day"] = judged[0].isoformat()
        alert.params["last_day"] = judged[1].isoformat()
    alerts += jumps
    alerts += wc.overdue_pileups(ws.overdue_rows(now), week=ws.week_of(today), limits=limits)
    alerts += wc.silent_terminals(ws.silent_rows(now))
    return alerts


def _head(alert: wc.Alert, heads: ws.Heads, employees: dict[int, Employee], users: dict) -> Any:
    """The department head told about the alert (never its subject)."""
    if alert.employee_id is not None:
        employee = employees.get(alert.employee_id)
        if employee is None:
            return None
        return heads.of_department(employee.department_id, not_=employee.pk)
    if alert.department_id is not None:
        return heads.of_department(alert.department_id)
    if alert.user_id is not None:
        approver = users.get(alert.user_id)
        if approver is None:
            return None
        return heads.of_department(approver.department_id, not_=approver.pk)
    return None


def warnings_run(*, actor: Any = None, now: datetime | None = None) -> WarningRunResult:
    """Raise and send every warning not raised before. ``actor`` None: the periodic task;
    a person must be HR or an auditor."""
    if actor is not None and not (is_hr(actor) or is_auditor(actor)):
        raise PermissionDeniedError()
    now = now or timezone.now()
    limits = selectors.thresholds().as_limits()
    alerts = compute_alerts(now, limits)
    result = WarningRunResult()
    if not alerts:
        return result
    known = set(
        EarlyWarning.objects.filter(key__in=[a.key for a in alerts]).values_list("key", flat=True)
    )
    fresh = [a for a in alerts if a.key not in known]
    if not fresh:
        return result
    heads = ws.Heads()
    employees = ws.employees_by_pk(
        {a.employee_id for a in fresh if a.employee_id is not None}
        | {h for h in heads.head.values() if h is not None}
    )
    approvers = {
        e.user_id: e
        for e in Employee.objects.filter(user_id__in={a.user_id for a in fresh if a.user_id})
    }
    head_users = {
        e.pk: e.user
        for e in Employee.objects.select_related("user").filter(
            pk__in=[h for h in heads.head.values() if h is not None]
        )
    }
    departments = Department.objects.in_bulk({a.department_id for a in fresh if a.department_id})
    hr = ws.hr_users()
    for alert in fresh:
        head_id = _head(alert, heads, employees, approvers)
        head_user = head_users.get(head_id) if head_id is not None else None
        recipients = [*hr, head_user] if head_user is not None else list(hr)
        subject_user = alert.user_id
        recipients = [u for u in recipients if u is not None and u.pk != subject_user]
        department = departments.get(alert.department_id) if alert.department_id else None
        if department is None and alert.employee_id is not None:
            subject_employee = employees.get(alert.employee_id)
            department = subject_employee.department if subject_employee else None
        try:
            with transaction.atomic():
                warning = EarlyWarning.objects.create(
                    kind=alert.kind,
                    key=alert.key,
                    severity=alert.severity,
                    employee_id=alert.employee_id,
                    department_id=alert.department_id,
                    user_id=alert.user_id,
                    device_id=alert.device_id,
                    head_id=head_id,
                    period_start=alert.start,
                    period_end=alert.end,
                    params=alert.params,
                    evidence=[e.as_dict() for e in alert.evidence],
                    recipients=sorted({u.pk for u in recipients}),
                    raised_at=now,
                )
                sent = notify(
                    kind=NotificationKind.OVERSIGHT_WARNING,
                    recipients=recipients,
                    title=wp.TITLES[alert.kind],
                    body=wp.BODIES[alert.kind],
                    params=wp.params(warning),
                    url=wp.url(warning),
                    data={"warning_id": warning.pk, "kind": alert.kind},
                    department=department,
                )
        except IntegrityError:
            continue  # raised by a run at the same moment
        result.raised += 1
        result.sent += len(sent)
        result.by_kind[alert.kind] = result.by_kind.get(alert.kind, 0) + 1
    if result.raised:
        with transaction.atomic():
            record(
                "oversight.warnings.run",
                object_type="oversight.earlywarning",
                actor=actor,
                extra={"raised": result.raised, "sent": result.sent, "by_kind": result.by_kind},
            )
    return result


def is_about(user: Any, warning: EarlyWarning) -> bool:
    """The warning's subject is the user (the approver, or the employee)."""
    if warning.user_id is not None and warning.user_id == getattr(user, "pk", None):
        return True
    me = employee_of(user)
    return me is not None and me.pk == warning.employee_id


def can_handle(user: Any, warning: EarlyWarning) -> bool:
    """HR, auditors and the head the warning was sent to; never its subject."""
    if is_about(user, warning):
        return False
    if is_hr(user) or is_auditor(user):
        return True
    me = employee_of(user)
    return me is not None and warning.head_id == me.pk


def _handle(*, actor: Any, warning: EarlyWarning, state: str, note: Any, required: bool):
    if not ws.can_see_warnings(actor) or not can_handle(actor, warning):
        raise PermissionDeniedError()
    text = clean_text(note, field="note", label=_("Note"), multiline=True, max_length=NOTE_MAX)
    text = " ".join(text.split())
    if required and len(text) < NOTE_MIN:
        raise DomainError(
            NOTE_REQUIRED, _("Say why the warning is closed (a note of at least two characters).")
        )
    with transaction.atomic():
        locked = EarlyWarning.objects.select_for_update().get(pk=warning.pk)
        if locked.state != WarningState.OPEN:
            raise DomainError(
                NOT_OPEN,
                _("This warning was already handled (%(state)s).")
                % {"state": WarningState(locked.state).label},
                details={"state": locked.state},
            )
        before = {"state": locked.state}
        locked.state, locked.note = state, text
        locked.handled_by, locked.handled_at = actor, timezone.now()
        locked.save(update_fields=["state", "note", "handled_by", "handled_at"])
        record(
            f"oversight.warning.{'resolve' if state == WarningState.RESOLVED else 'close'}",
            obj=locked,
            actor=actor,
            before=before,
            after={"state": state, "note": text},
            extra={"kind": locked.kind, "key": locked.key},
        )
    return locked


def warning_resolve(*, actor: Any, warning: EarlyWarning, note: Any = "") -> EarlyWarning:
    """Open → resolved (dealt with); the note is optional."""
    return _handle(
        actor=actor, warning=warning, state=WarningState.RESOLVED, note=note, required=False
    )


def warning_close(*, actor: Any, warning: EarlyWarning, note: Any) -> EarlyWarning:
    """Open → closed (nothing to do); the note saying why is required."""
    return _handle(
        actor=actor, warning=warning, state=WarningState.CLOSED, note=note, required=True
    )
