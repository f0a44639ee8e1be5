"""Writes of the correction settings page (/settings/corrections/): one group's policy,
its reason categories and its custom approval steps, saved together.

Transactional, permission-checked (HR and system admins), audited with the whole setting
before and after (``corrections.policy.save``); every refusal is a DomainError whose
``details["field"]`` names the form field it concerns, so the page shows it next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.org.models import AttendanceGroup
from ztk.org.rules import is_hr, is_sysadmin

from .models import (
    ApprovalStepConfig,
    ApproverKind,
    ChainPreset,
    CorrectionPolicy,
    ReasonCategory,
    WindowMode,
)

BAD_POLICY = "bad_policy"

# The ranges the page offers and the service enforces (the one owner of them).
LIMIT_RANGE = (0, 31)  # requests per period; 0 turns self-service corrections off
WINDOW_RANGE = (0, 62)  # days after the day (CorrectionPolicy.window_days' validator)
CUTOFF_RANGE = (1, 28)
REASON_RANGE = (0, 200)
DEADLINE_RANGE = (1, 30)  # working days for one step
MAX_STEPS = 5
MAX_CATEGORIES = 30
NAME_MAX = 60
CODE_RE = re.compile(r"^[-a-zA-Z0-9_]{1,32}$")

POLICY_FIELDS = (
    "monthly_limit",
    "window_days",
    "window_mode",
    "cutoff_day",
    "correct_missing",
    "correct_late",
    "correct_early",
    "min_reason_length",
    "self_apply",
    "expedite_allowed",
    "chain_preset",
    "manual_adds_count",
    "paper_counts",
)


@dataclass(frozen=True)
class CategoryIn:
    """One reason category as typed: `code` empty for a new one (a code is made up)."""

    name: str
    requires_attachment: bool = False
    active: bool = True
    code: str = ""


@dataclass(frozen=True)
class StepIn:
    """One custom approval step: its kind, the named user (kind "user") and its deadline."""

    kind: str
    user: Any = None
    deadline_working_days: int | None = None


def may_edit_policy(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (is_hr(user) or is_sysadmin(user))


def _in_range(field: str, value: Any, bounds: tuple[int, int], label: Any) -> int:
    low, high = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DomainError(
            BAD_POLICY,
            _("%(label)s must be a whole number from %(low)d to %(high)d.")
            % {"label": label, "low": low, "high": high},
            details={"field": field},
        )
    return value


def policy_snapshot(row: CorrectionPolicy) -> dict[str, Any]:
    """The whole setting of a saved policy: its fields, own categories and steps."""
    data: dict[str, Any] = {name: getattr(row, name) for name in POLICY_FIELDS}
    if row.pk:
        data["categories"] = [
            {
                "code": c.code,
                "name": c.name,
                "requires_attachment": c.requires_attachment,
                "active": c.active,
            }
            for c in row.categories.order_by("order", "code")
        ]
        data["steps"] = [
            {"kind": s.approver_kind, "user_id": s.user_id, "deadline": s.deadline_working_days}
            for s in row.steps.order_by("position")
        ]
    return data


def _check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"unknown policy fields: {sorted(unknown)}")
    out = dict(fields)
    out["monthly_limit"] = _in_range(
        "monthly_limit", fields.get("monthly_limit"), LIMIT_RANGE, _("Corrections per period")
    )
    out["window_days"] = _in_range(
        "window_days", fields.get("window_days"), WINDOW_RANGE, _("Days to apply")
    )
    if fields.get("window_mode") not in WindowMode.values:
        raise DomainError(
            BAD_POLICY, _("Choose how the days are counted."), details={"field": "window_mode"}
        )
    cutoff = fields.get("cutoff_day")
    out["cutoff_day"] = (
        None if cutoff is None else _in_range("cutoff_day", cutoff, CUTOFF_RANGE, _("Cut-off day"))
    )
    out["min_reason_length"] = _in_range(
        "min_reason_length",
        fields.get("min_reason_length"),
        REASON_RANGE,
        _("Minimum reason length"),
    )
    if fields.get("chain_preset") not in ChainPreset.values:
        raise DomainError(
            BAD_POLICY, _("Choose an approval chain."), details={"field": "chain_preset"}
        )
    for flag in (
        "correct_missing",
        "correct_late",
        "correct_early",
        "self_apply",
        "expedite_allowed",
        "manual_adds_count",
        "paper_counts",
    ):
        out[flag] = bool(fields.get(flag))
    if not (out["correct_missing"] or out["correct_late"] or out["correct_early"]):
        raise DomainError(
            BAD_POLICY,
            _(
                "Choose at least one anomaly that may be corrected (set the limit to 0 to "
                "turn corrections off)."
            ),
            details={"field": "correct_missing"},
        )
    return out


def _check_categories(categories: list[CategoryIn]) -> list[CategoryIn]:
    if len(categories) > MAX_CATEGORIES:
        raise DomainError(
            BAD_POLICY,
            _("At most %(max)d reason categories.") % {"max": MAX_CATEGORIES},
            details={"field": "categories"},
        )
    seen_names: set[str] = set()
    seen_codes: set[str] = set()
    out: list[CategoryIn] = []
    for category in categories:
        name = clean_text(category.name, field="categories", label=_("Reason category"))
        code = (category.code or "").strip()
        if not name:
            raise DomainError(
                BAD_POLICY, _("Give every reason category a name."), details={"field": "categories"}
            )
        if len(name) > NAME_MAX:
            raise DomainError(
                BAD_POLICY,
                _("A category name has at most %(max)d characters.") % {"max": NAME_MAX},
                details={"field": "categories"},
            )
        if code and not CODE_RE.match(code):
            raise DomainError(
                BAD_POLICY, _("Unknown category code."), details={"field": "categories"}
            )
        if name.casefold() in seen_names or (code and code.lower() in seen_codes):
            raise DomainError(
                BAD_POLICY,
                _("The reason category “%(name)s” is listed twice.") % {"name": name},
                details={"field": "categories"},
            )
        seen_names.add(name.casefold())
        if code:
            seen_codes.add(code.lower())
        out.append(CategoryIn(name, category.requires_attachment, category.active, code))
    if not any(c.active for c in out):
        raise DomainError(
            BAD_POLICY,
            _("Offer at least one reason category."),
            details={"field": "categories"},
        )
    return out


def _check_steps(steps: list[StepIn]) -> list[StepIn]:
    if not steps:
        raise DomainError(
            BAD_POLICY,
            _("A custom approval chain needs at least one step."),
            details={"field": "steps"},
        )
    if len(steps) > MAX_STEPS:
        raise DomainError(
            BAD_POLICY,
            _("A chain has at most %(max)d steps.") % {"max": MAX_STEPS},
            details={"field": "steps"},
        )
    for position, step in enumerate(steps, start=1):
        if step.kind not in ApproverKind.values:
            raise DomainError(
                BAD_POLICY,
                _("Step %(n)d: choose who approves.") % {"n": position},
                details={"field": "steps"},
            )
        if step.kind == ApproverKind.USER and (step.user is None or not step.user.is_active):
            raise DomainError(
                BAD_POLICY,
                _("Step %(n)d: choose the person who approves (an active account).")
                % {"n": position},
                details={"field": "steps"},
            )
        if step.deadline_working_days is not None:
            low, high = DEADLINE_RANGE
            if not low <= step.deadline_working_days <= high:
                raise DomainError(
                    BAD_POLICY,
                    _("Step %(n)d: the deadline is %(low)d to %(high)d working days.")
                    % {"n": position, "low": low, "high": high},
                    details={"field": "steps"},
                )
    return steps


def _new_code(taken: set[str]) -> str:
    n = 1
    while f"c{n}" in taken:
        n += 1
    taken.add(f"c{n}")
    return f"c{n}"


def _save_categories(row: CorrectionPolicy, categories: list[CategoryIn]) -> None:
    """The group's list becomes `categories`: a company-wide category kept as it is needs no
    row of the group's own; a changed or removed one is overridden by the group's row (an
    inactive row hides it: ``services.categories_for``)."""
    globals_ = {c.code: c for c in ReasonCategory.objects.filter(policy__isnull=True)}
    own = {c.code: c for c in row.categories.all()}
    taken = set(globals_) | set(own)
    listed: set[str] = set()
    for order, category in enumerate(categories, start=1):
        code = category.code or _new_code(taken)
        listed.add(code)
        wanted = {
            "name": category.name,
            "requires_attachment": category.requires_attachment,
            "active": category.active,
            "order": order * 10,
        }
        same = globals_.get(code)
        as_offered = same is not None and (same.name, same.requires_attachment, same.active) == (
            category.name,
            category.requires_attachment,
            category.active,
        )
        if as_offered and code not in own:  # as the company offers it: no row of its own
            continue
        ReasonCategory.objects.update_or_create(policy=row, code=code, defaults=wanted)
    for code, category in own.items():
        if code not in listed and category.active:
            category.active = False
            category.save(update_fields=["active"])
    for code, category in globals_.items():
        if code not in listed and code not in own:
            ReasonCategory.objects.create(
                policy=row,
                code=code,
                name=category.name,
                requires_attachment=category.requires_attachment,
                active=False,
                order=category.order,
            )


def correction_policy_save(
    *,
    actor: Any,
    group: AttendanceGroup,
    fields: dict[str, Any],
    categories: list[CategoryIn],
    steps: list[StepIn],
) -> CorrectionPolicy:
    """Save one attendance group's correction policy, categories and (custom) steps."""
    if not may_edit_policy(actor) or not actor.is_active:
        raise PermissionDeniedError()
    values = _check_fields(fields)
    categories = _check_categories(categories)
    if values["chain_preset"] == ChainPreset.CUSTOM:
        steps = _check_steps(steps)
    with transaction.atomic():
        AttendanceGroup.objects.select_for_update().get(pk=group.pk)
        row = CorrectionPolicy.objects.filter(group=group).first()
        before = policy_snapshot(row) if row is not None else None
        if row is None:
            row = CorrectionPolicy(group=group)
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        _save_categories(row, categories)
        if values["chain_preset"] == ChainPreset.CUSTOM:
            row.steps.all().delete()
            ApprovalStepConfig.objects.bulk_create(
                ApprovalStepConfig(
                    policy=row,
                    position=position,
                    approver_kind=step.kind,
                    user=step.user if step.kind == ApproverKind.USER else None,
                    deadline_working_days=step.deadline_working_days,
                )
                for position, step in enumerate(steps, start=1)
            )
        record(
            "corrections.policy.save",
            obj=row,
            actor=actor,
            before=before,
            after=policy_snapshot(row),
            extra={"group": group.code},
        )
    return row
