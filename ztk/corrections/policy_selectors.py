"""Reads of the correction settings page: every group's policy and the plain-language
summary of what its employees will experience (``policy_summary``, the one renderer of it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ztk.approvals.chains import display_name
from ztk.org.models import AttendanceGroup
from ztk.org.selectors import period_start_day

from .models import (
    DEFAULT_DEADLINE_WORKING_DAYS,
    ApproverKind,
    ChainPreset,
    CorrectionPolicy,
    ReasonCategory,
    WindowMode,
)
from .services import categories_for, policy_row_for


@dataclass(frozen=True)
class ChainStep:
    kind: str
    label: str
    user: Any
    deadline: int


def groups() -> QuerySet[AttendanceGroup]:
    return AttendanceGroup.objects.select_related("correction_policy").order_by("code")


def chain_of(row: CorrectionPolicy) -> list[ChainStep]:
    """The configured steps of a policy, as the page and the summary show them."""
    kinds = dict(ApproverKind.choices)

    def preset(kind: str) -> ChainStep:
        return ChainStep(kind, str(kinds[kind]), None, DEFAULT_DEADLINE_WORKING_DAYS[kind])

    if row.chain_preset == ChainPreset.SINGLE:
        return [preset(ApproverKind.SUPERVISOR)]
    if row.chain_preset == ChainPreset.FLAT:
        return [preset(ApproverKind.HR)]
    if row.chain_preset == ChainPreset.CUSTOM:
        steps = list(row.steps.select_related("user__employee")) if row.pk else []
        if not steps:  # as services.resolve_chain does
            return [preset(ApproverKind.HR)]
        return [
            ChainStep(
                s.approver_kind,
                display_name(s.user) if s.user is not None else str(kinds[s.approver_kind]),
                s.user,
                s.deadline,
            )
            for s in steps
        ]
    return [preset(ApproverKind.SUPERVISOR), preset(ApproverKind.HR)]


def categories_of(row: CorrectionPolicy) -> list[ReasonCategory]:
    return list(categories_for(row).values())


def policy_summary(row: CorrectionPolicy) -> list[str]:
    """What the group's employees will experience, one sentence a rule, from saved values."""
    lines: list[str] = []
    start = period_start_day()
    if row.monthly_limit == 0:
        lines.append(_("Employees cannot file corrections themselves (the limit is 0)."))
    elif start == 1:
        lines.append(
            ngettext(
                "At most %(n)d correction per month.",
                "At most %(n)d corrections per month.",
                row.monthly_limit,
            )
            % {"n": row.monthly_limit}
        )
    else:
        lines.append(
            ngettext(
                "At most %(n)d correction per attendance period (from day %(start)d).",
                "At most %(n)d corrections per attendance period (from day %(start)d).",
                row.monthly_limit,
            )
            % {"n": row.monthly_limit, "start": start}
        )
    if row.window_mode == WindowMode.WORKING:
        window = ngettext(
            "Apply within %(n)d working day after the anomaly.",
            "Apply within %(n)d working days after the anomaly.",
            row.window_days,
        )
    else:
        window = ngettext(
            "Apply within %(n)d day after the anomaly.",
            "Apply within %(n)d days after the anomaly.",
            row.window_days,
        )
    if row.window_days == 0:
        window = _("Apply on the day of the anomaly.")
    lines.append(window % {"n": row.window_days})
    if row.cutoff_day:
        lines.append(
            _("After day %(day)d of the following month, a month can no longer be corrected.")
            % {"day": row.cutoff_day}
        )
    kinds = [
        label
        for allowed, label in (
            (row.correct_missing, _("missing punches")),
            (row.correct_late, _("late arrivals")),
            (row.correct_early, _("early leaves")),
        )
        if allowed
    ]
    lines.append(_("Can be corrected: %(kinds)s.") % {"kinds": _(", ").join(kinds) or "—"})
    categories = categories_of(row)
    names = [
        _("%(name)s (attachment required)") % {"name": c.name} if c.requires_attachment else c.name
        for c in categories
    ]
    lines.append(_("Reasons to choose from: %(names)s.") % {"names": _(", ").join(names) or "—"})
    if row.min_reason_length:
        lines.append(
            ngettext(
                "The reason must be at least %(n)d character long.",
                "The reason must be at least %(n)d characters long.",
                row.min_reason_length,
            )
            % {"n": row.min_reason_length}
        )
    if row.self_apply:
        lines.append(_("Employees apply themselves; supervisors and HR may also file for them."))
    else:
        lines.append(_("Employees cannot apply themselves: their supervisor or HR files for them."))
    steps = [
        ngettext(
            "%(who)s (within %(n)d working day)",
            "%(who)s (within %(n)d working days)",
            step.deadline,
        )
        % {"who": step.label, "n": step.deadline}
        for step in chain_of(row)
    ]
    lines.append(_("Approved by: %(steps)s.") % {"steps": " → ".join(steps)})
    if row.expedite_allowed:
        lines.append(_("An urgent request (加急) may be marked, with a justification."))
    else:
        lines.append(_("Requests cannot be marked urgent (加急)."))
    return lines


def policy_of(group: AttendanceGroup) -> CorrectionPolicy:
    """The group's saved policy, or the defaults (not saved) when it has none."""
    return policy_row_for(group)
