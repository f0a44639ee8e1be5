"""Translated sentences for the engine's structured notes (the engine itself stays pure)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

NOTE_TEXT = {
    "rest": _("Rest day: no shift scheduled."),
    "holiday": _("Public holiday: no shift scheduled."),
    "all_exempt": _("Every slot is covered by approved leave, outing or business trip."),
    "absent": _("Absent (one day): no valid punch in any slot that needed one."),
    "provisional": _("Provisional result as of {as_of}; the day is not final yet."),
    "late": _("{slot}: late by {minutes} min."),
    "flexible_late": _(
        "{slot}: arrived {minutes} min after the latest arrival time {arrive_until}."
    ),
    "serious_late": _("{slot}: seriously late (more than {threshold} min)."),
    "half_day_absent": _(
        "{slot}: late by more than {threshold} min, counted as half a day of absence."
    ),
    "late_counted_missing": _(
        "{slot}: late by {minutes} min, counted as missing (more than {threshold} min)."
    ),
    "early": _("{slot}: left {minutes} min early."),
    "flexible_early": _(
        "{slot}: left {minutes} min before completing {required_minutes} min of work."
    ),
    "early_counted_missing": _(
        "{slot}: left {minutes} min early, counted as missing (more than {threshold} min)."
    ),
    "no_punch": _("{slot}: no punch (missing)."),
    "not_yet_punched": _("{slot}: not yet punched (window open until {until})."),
    "exempt": _("{slot}: covered by approved {kind}."),
    "corrected": _("{slot}: filled by an approved correction punch at {time}."),
    "manual": _("{slot}: filled by an HR manual punch at {time}."),
    "outside_schedule": _("Punch at {date} {time} is outside every punch window."),
    "voided_ignored": _("Punch at {date} {time} was voided and is ignored."),
}

SLOT_KIND = {"in": pgettext_lazy("slot", "Check-in"), "out": pgettext_lazy("slot", "Check-out")}
EXEMPTION_KIND = {"leave": _("leave"), "outing": _("outing"), "trip": _("business trip")}
# An exempt slot's status says what covers it (the day page: 请假 / 外出 / 出差).
EXEMPT_STATUS = {"leave": _("Leave"), "outing": _("Outing"), "trip": _("Business trip")}
SLOT_STATUS = {
    "normal": _("Normal"),
    "late": _("Late"),
    "early": _("Left early"),
    "missing": _("Missing punch"),
    "corrected": _("Corrected (补卡)"),
    "manual": _("Added by HR"),
    "exempt": _("Exempt"),
    "pending": _("Not yet punched"),
}


def slot_label(key: str | None, segments: int = 1) -> str:
    """'in1' → 上班卡 / Check-in; with several segments the segment number is added."""
    if not key:
        return ""
    kind, number = key[:-1], key[-1:]
    label = str(SLOT_KIND.get(kind, key))
    return f"{label} {number}" if segments > 1 else label


def render_notes(notes: list[dict[str, Any]], segments: int = 1) -> list[str]:
    lines = []
    for note in notes:
        template = NOTE_TEXT.get(note.get("code", ""))
        params = dict(note.get("params") or {})
        if "kind" in params:
            params["kind"] = str(EXEMPTION_KIND.get(params["kind"], params["kind"]))
        for key in ("until", "as_of"):
            if isinstance(params.get(key), str) and "T" in params[key]:
                params[key] = params[key].split("T", 1)[1][:5]
        if template is None:
            lines.append(note.get("code", ""))
            continue
        try:
            lines.append(
                str(template).format(slot=slot_label(note.get("slot"), segments), **params)
            )
        except (KeyError, IndexError, ValueError):
            lines.append(str(template))
    return lines
