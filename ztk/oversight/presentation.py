"""How a finding reads on the pages and in the API: its subject, a sentence from its
figures, and its evidence rows with the facts of each (three queries for a page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from ztk.audit.models import AuditEvent
from ztk.corrections.models import CorrectionRequest
from ztk.org.rules import can_see_audit, can_use_hr_desk
from ztk.punches.models import Punch

from . import checks
from .models import Finding


def subject(finding: Finding) -> str:
    """Who or what the finding is about, as a short line."""
    if finding.rule == checks.REPEATED_REASON:
        return f"“{finding.params.get('text', '')}”"
    names = [
        f"{e.name} ({e.employee_no})"
        for e in (finding.employee, finding.other_employee)
        if e is not None
    ]
    if names:
        return " · ".join(names)
    if finding.user is not None:
        employee = getattr(finding.user, "employee", None)
        if employee is not None:
            return f"{employee.name} ({finding.user.get_username()})"
        return finding.user.get_username()
    return "—"


def summary(finding: Finding) -> str:
    """The figures that made the rule fire, as one translated sentence."""
    p: dict[str, Any] = finding.params or {}
    rule = finding.rule
    if rule == checks.FREQUENT_CORRECTOR:
        text = _(
            "%(count)d corrections in the period; the other members of the group reach "
            "%(value)d at their %(pct)dth percentile."
        ) % {
            "count": p.get("count", 0),
            "value": p.get("group_percentile_value", 0),
            "pct": p.get("percentile", 95),
        }
        if p.get("streak"):
            text += ("" if text.endswith("。") else " ") + _(
                "At or above the monthly limit (%(limit)d) %(n)d periods running: %(counts)s."
            ) % {
                "limit": p.get("monthly_limit", 0),
                "n": len(p["streak"]),
                "counts": " → ".join(str(c) for c in p["streak"]),
            }
        return text
    if rule == checks.RUBBER_STAMP:
        return _(
            "%(decisions)d decisions, %(rate)s%% approved, a median of %(median)s s from the "
            "step reaching them to the decision; %(bulk)d decisions within seconds of the "
            "previous one; %(no_proof)d approvals without the attachment the category requires."
        ) % {
            "decisions": p.get("decisions", 0),
            "rate": round(100 * float(p.get("approval_rate", 0))),
            "median": p.get("median_seconds", 0),
            "bulk": p.get("bulk_decisions", 0),
            "no_proof": p.get("no_proof_approvals", 0),
        }
    if rule == checks.CUTOFF_CLUSTER:
        return _(
            "%(late)d of %(total)d requests filed in the last %(hours)d hours before "
            "their deadline."
        ) % {"late": p.get("late", 0), "total": p.get("total", 0), "hours": p.get("hours", 0)}
    if rule == checks.REPEATED_REASON:
        return _("The same reason in %(requests)d requests by %(people)d people.") % {
            "requests": p.get("requests", 0),
            "people": p.get("people", 0),
        }
    if rule == checks.BUDDY_PUNCH:
        return _(
            "Punched within %(window)d seconds of each other on the same terminal or network "
            "address on %(days)d days: %(dates)s."
        ) % {
            "window": p.get("window_seconds", 0),
            "days": p.get("days", 0),
            "dates": ", ".join(str(d)[5:] for d in p.get("dates", [])),
        }
    if rule == checks.HR_ACTIVITY:
        return _(
            "%(adds)d manual adds (%(own)d for their own team), %(voids)d voids, "
            "%(reopenings)d period reopenings, %(off)d changes outside working hours."
        ) % {
            "adds": p.get("manual_adds", 0),
            "own": p.get("own_team", 0),
            "voids": p.get("voids", 0),
            "reopenings": p.get("reopenings", 0),
            "off": p.get("off_hours", 0),
        }
    if rule == checks.OUTSIDE_FENCE:
        return _(
            "%(count)d web or phone punches outside every punch area of the group on "
            "%(days)d days (%(field)d of them field punches); the farthest %(km)s km away."
        ) % {
            "count": p.get("count", 0),
            "days": p.get("days", 0),
            "field": p.get("field_punches", 0),
            "km": f"{float(p.get('farthest_m', 0)) / 1000:.1f}",
        }
    if rule == checks.IMPLAUSIBLE_JUMP:
        return _(
            "%(jumps)d times between two punches further than anyone travels in the time: "
            "up to %(km)s km at %(speed)d km/h (the limit is %(limit)d km/h)."
        ) % {
            "jumps": p.get("jumps", 0),
            "km": p.get("longest_km", 0),
            "speed": p.get("fastest_kmh", 0),
            "limit": p.get("speed_limit_kmh", 0),
        }
    if rule == checks.NEW_DEVICE:
        return _("%(punches)d punches from a device not used before: %(devices)s.") % {
            "punches": p.get("punches", 0),
            "devices": ", ".join(str(d) for d in p.get("devices", [])),
        }
    return ""


def tag_label(tag: str) -> str:
    labels = {
        "no_proof": _("approved without the required attachment"),
        "bulk": _("within seconds of the previous decision"),
        "fast": _("decided quickly"),
        "manual_adds": _("manual add"),
        "voids": _("void"),
        "own_team": _("manual add for their own team"),
        "reopenings": _("period reopened"),
        "off_hours": _("outside working hours"),
        "outside": _("outside every punch area"),
        "field": _("field punch outside every punch area"),
        "jump": _("implausible jump"),
        "new_device": _("first punch from a new device"),
        "same_device": _("from the new device"),
    }
    return labels.get(tag, "")


@dataclass
class EvidenceRow:
    kind: str
    id: int
    at: datetime | None
    title: str
    detail: str
    tag: str
    url: str


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return timezone.localtime(datetime.fromisoformat(value))
    except ValueError:
        return None


def evidence_rows(finding: Finding, user: Any) -> list[EvidenceRow]:
    """The finding's evidence with the facts of each row; a link where the viewer may
    open it (requests and punches: HR's desk; audit events: the audit log)."""
    items = [e for e in finding.evidence or [] if isinstance(e, dict)]
    ids: dict[str, set[int]] = {checks.REQUEST: set(), checks.PUNCH: set(), checks.AUDIT: set()}
    for item in items:
        if item.get("kind") in ids and isinstance(item.get("id"), int):
            ids[item["kind"]].add(item["id"])
    requests = CorrectionRequest.objects.select_related("employee").in_bulk(ids[checks.REQUEST])
    punches = Punch.objects.select_related("employee").in_bulk(ids[checks.PUNCH])
    events = {
        e.seq: e for e in AuditEvent.objects.filter(seq__in=ids[checks.AUDIT]).order_by("seq")
    }
    desk, audit = can_use_hr_desk(user), can_see_audit(user)
    rows = []
    for item in items:
        kind, note = item.get("kind"), str(item.get("note", ""))
        raw_id = item.get("id")
        pk: int = raw_id if isinstance(raw_id, int) else 0
        at = _when(item.get("at"))
        title, detail, url = f"#{pk}", note, ""
        if kind == checks.REQUEST:
            req = requests.get(pk)
            title = _("Request #%(id)s") % {"id": pk}
            if req is not None:
                detail = (
                    f"{req.employee.name} · {req.date:%Y-%m-%d} · {req.get_status_display()}"
                    f" · {note}"
                )
                if desk:
                    url = reverse("requests:detail", args=[pk])
        elif kind == checks.PUNCH:
            punch = punches.get(pk)
            title = _("Punch #%(id)s") % {"id": pk}
            if punch is not None:
                local = timezone.localtime(punch.at)
                gap = note.split(" ", 1)[1] if " " in note else ""  # "device:SN +3s"
                detail = (
                    f"{punch.employee.name} · {local:%Y-%m-%d %H:%M:%S} · "
                    f"{punch.get_source_display()} {punch.device_sn}"
                ) + (f" · {gap}" if gap else "")
                if desk:
                    url = reverse(
                        "attendance:employee_day",
                        args=[punch.employee.employee_no, f"{local:%Y-%m-%d}"],
                    )
        elif kind == checks.AUDIT:
            event = events.get(pk)
            title = _("Audit event #%(id)s") % {"id": pk}
            if event is not None:
                local = timezone.localtime(event.at)
                detail = f"{event.action} · {event.actor_label or '—'} · {event.ip or '—'}"
                if audit:
                    day = f"{local:%Y-%m-%d}"
                    url = (
                        reverse("web:audit")
                        + "?"
                        + urlencode({"action": event.action, "from": day, "to": day})
                    )
        rows.append(
            EvidenceRow(str(kind), pk, at, title, detail, tag_label(item.get("tag", "")), url)
        )
    return rows
