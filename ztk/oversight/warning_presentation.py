"""How an early warning reads — in its notification, on the pages and in the API: a title
and a sentence from its figures (templates rendered in the reader's language), its subject,
and its evidence rows with links where the viewer may open them."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from ztk.org.models import Employee
from ztk.org.rules import can_use_hr_desk

from . import warning_checks as wc
from .models import EarlyWarning
from .presentation import EvidenceRow, _when, evidence_rows

TITLES = {
    wc.CLOSE_TO_LIMIT: _("%(subject)s is close to the monthly correction limit"),
    wc.DEPARTMENT_JUMP: _("Anomalies jump in %(subject)s"),
    wc.OVERDUE_PILEUP: _("Overdue approvals pile up for %(subject)s"),
    wc.SILENT_TERMINAL: _("Terminal %(subject)s is silent in working hours"),
}
BODIES = {
    wc.CLOSE_TO_LIMIT: _(
        "%(used)s of %(limit)s corrections used in the period %(start)s – %(end)s; %(left)s left."
    ),
    wc.DEPARTMENT_JUMP: _(
        "%(anomalies)s anomalies in the seven days to %(last)s: %(rate)s%% of the working "
        "days, against %(usual)s%% in the weeks before."
    ),
    wc.OVERDUE_PILEUP: _("%(overdue)s approval steps past their deadline wait for them."),
    wc.SILENT_TERMINAL: _("Not heard from since %(last_seen)s, during working hours."),
}


def subject(w: EarlyWarning) -> str:
    if w.employee is not None:
        return f"{w.employee.name} ({w.employee.employee_no})"
    if w.department is not None:
        return f"{w.department.name} ({w.department.code})"
    if w.user is not None:
        employee = getattr(w.user, "employee", None)
        name = w.user.get_username()
        return f"{employee.name} ({name})" if employee is not None else name
    if w.device is not None:
        return f"{w.device.name or w.device.serial} ({w.device.serial})"
    return "—"


def params(w: EarlyWarning) -> dict[str, Any]:
    """The figures the templates read (``%(name)s``)."""
    p: dict[str, Any] = dict(w.params or {})
    never = _("never")
    return {
        "subject": subject(w),
        "used": p.get("used", 0),
        "limit": p.get("limit", 0),
        "left": p.get("left", 0),
        "start": w.period_start.isoformat(),
        "end": w.period_end.isoformat(),
        "anomalies": p.get("anomalies", 0),
        "last": p.get("last_day", w.period_end.isoformat()),
        "rate": round(100 * float(p.get("rate", 0) or 0)),
        "usual": round(100 * float(p.get("usual_rate", 0) or 0)),
        "overdue": p.get("overdue", 0),
        "last_seen": (p.get("last_seen") or "")[:16].replace("T", " ") or never,
    }


def title(w: EarlyWarning) -> str:
    return str(TITLES.get(w.kind, _("Early warning"))) % params(w)


def summary(w: EarlyWarning) -> str:
    body = BODIES.get(w.kind)
    return str(body) % params(w) if body is not None else ""


def url(w: EarlyWarning) -> str:
    try:
        return reverse("warnings:detail", args=[w.pk])
    except NoReverseMatch:
        return ""


def evidence(w: EarlyWarning, user: Any) -> list[EvidenceRow]:
    """Requests (as the findings show them), days of an employee (HR's day page) and
    terminals (the terminal's page)."""
    items = [e for e in w.evidence or [] if isinstance(e, dict)]
    common = [e for e in items if e.get("kind") not in (wc.DAY, wc.DEVICE)]
    rows = evidence_rows(_Shim(common), user) if common else []  # type: ignore[arg-type]
    desk = can_use_hr_desk(user)
    people = {}
    days = [e for e in items if e.get("kind") == wc.DAY]
    if days:
        people = Employee.objects.in_bulk([e["id"] for e in days if isinstance(e.get("id"), int)])
    for item in items:
        kind = item.get("kind")
        if kind == wc.DAY:
            employee = people.get(item.get("id") or 0)
            day = str(item.get("note", ""))
            name = f"{employee.name} ({employee.employee_no})" if employee else "—"
            link = ""
            if employee is not None and desk:
                link = reverse("attendance:employee_day", args=[employee.employee_no, day])
            rows.append(EvidenceRow(wc.DAY, int(item.get("id") or 0), None, day, name, "", link))
        elif kind == wc.DEVICE and w.device is not None:
            serial = w.device.serial
            link = reverse("devices:detail", args=[serial]) if desk else ""
            rows.append(
                EvidenceRow(
                    wc.DEVICE,
                    w.device.pk,
                    _when(item.get("at")),
                    str(_("Terminal %(serial)s") % {"serial": serial}),
                    w.device.name or "",
                    "",
                    link,
                )
            )
    return rows


class _Shim:
    """A stand-in with the ``evidence`` list ``presentation.evidence_rows`` reads."""

    def __init__(self, items: list[dict]) -> None:
        self.evidence = items
