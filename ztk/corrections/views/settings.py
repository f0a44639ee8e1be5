"""The correction settings pages (/settings/corrections/): every group's policy with its
plain-language summary, and one group's form. HR and system admins edit; auditors read.

Thin: parse the form, call ``policy_services.correction_policy_save``, show its refusal
next to the field it names with what was typed kept (HTTP 422).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from ztk.core.errors import DomainError
from ztk.core.input_guard import text_checked
from ztk.org.models import AttendanceGroup
from ztk.org.rules import is_auditor
from ztk.org.selectors import picker_people, user_picked

from .. import policy_selectors as ps
from .. import policy_services as services
from ..models import ApproverKind, ChainPreset, WindowMode

EXTRA_CATEGORY_ROWS = 3
FIELD_MAX = 100


def may_view(user: Any) -> bool:
    return services.may_edit_policy(user) or is_auditor(user)


def _require_viewer(request: HttpRequest) -> bool:
    """True when the user may edit, False when only read; 403 for everyone else."""
    if services.may_edit_policy(request.user):
        return True
    if is_auditor(request.user):
        return False
    raise PermissionDenied


def _number(low: int, high: int, *, required: bool = True, **kw: Any) -> forms.IntegerField:
    return forms.IntegerField(
        required=required, widget=forms.NumberInput(attrs={"min": low, "max": high}), **kw
    )


class PolicyForm(forms.Form):
    """The policy's own fields; ranges are the service's (shown as the inputs' min/max)."""

    monthly_limit = _number(*services.LIMIT_RANGE, label=gettext_lazy("Corrections per period"))
    window_days = _number(*services.WINDOW_RANGE, label=gettext_lazy("Days to apply"))
    window_mode = forms.ChoiceField(choices=WindowMode.choices, label=gettext_lazy("Count days as"))
    cutoff_day = _number(
        *services.CUTOFF_RANGE,
        required=False,
        label=gettext_lazy("Cut-off day of the next month"),
        help_text=gettext_lazy("Empty: no cut-off day."),
    )
    correct_missing = forms.BooleanField(required=False, label=gettext_lazy("Missing punches"))
    correct_late = forms.BooleanField(required=False, label=gettext_lazy("Late arrivals"))
    correct_early = forms.BooleanField(required=False, label=gettext_lazy("Early leaves"))
    min_reason_length = _number(
        *services.REASON_RANGE, label=gettext_lazy("Minimum reason length (characters)")
    )
    self_apply = forms.BooleanField(
        required=False, label=gettext_lazy("Employees may apply themselves")
    )
    expedite_allowed = forms.BooleanField(
        required=False, label=gettext_lazy("Urgent requests (加急) allowed")
    )
    paper_counts = forms.BooleanField(
        required=False, label=gettext_lazy("Paper forms count against the limit")
    )
    manual_adds_count = forms.BooleanField(
        required=False, label=gettext_lazy("HR manual adds count against the limit")
    )
    chain_preset = forms.ChoiceField(
        choices=ChainPreset.choices,
        label=gettext_lazy("Approval chain"),
        widget=forms.RadioSelect,
    )


def _initial(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in services.POLICY_FIELDS}


def _category_rows(data: QueryDict | None, row: Any) -> list[dict[str, Any]]:
    if data is None:
        rows = [
            {"code": c.code, "name": c.name, "att": c.requires_attachment, "active": True}
            for c in ps.categories_of(row)
        ]
        return rows + [{"code": "", "name": "", "att": False, "active": True}] * EXTRA_CATEGORY_ROWS
    rows = []
    for i in range(services.MAX_CATEGORIES + EXTRA_CATEGORY_ROWS):
        if f"cat-{i}-name" not in data:
            break
        rows.append(
            {
                "code": data.get(f"cat-{i}-code", "")[:FIELD_MAX],
                "name": data.get(f"cat-{i}-name", "")[:FIELD_MAX],
                "att": bool(data.get(f"cat-{i}-att")),
                "active": bool(data.get(f"cat-{i}-active")),
            }
        )
    return rows


def _picker_text(user: Any) -> str:
    """What a person picker shows for a saved account: the employee number, else the user
    name (both found again by ``org.selectors.user_picked``)."""
    if user is None:
        return ""
    employee = getattr(user, "employee", None)
    return employee.employee_no if employee is not None else user.get_username()


def _step_rows(data: QueryDict | None, row: Any) -> list[dict[str, Any]]:
    if data is None:
        saved = list(row.steps.select_related("user__employee")) if row.pk else []
        rows = [
            {
                "kind": s.approver_kind,
                "user": (
                    s.user.employee.employee_no
                    if hasattr(s.user, "employee")
                    else s.user.get_username()
                )
                if s.user
                else "",
                "deadline": s.deadline_working_days or "",
            }
            for s in saved
        ]
    else:
        rows = [
            {
                "kind": data.get(f"step-{i}-kind", "")[:FIELD_MAX],
                "user": data.get(f"step-{i}-user", "")[:FIELD_MAX],
                "deadline": data.get(f"step-{i}-deadline", "")[:FIELD_MAX],
            }
            for i in range(services.MAX_STEPS)
        ]
    blank = {"kind": "", "user": "", "deadline": ""}
    return (rows + [blank] * services.MAX_STEPS)[: services.MAX_STEPS]


def _steps_in(rows: list[dict[str, Any]]) -> tuple[list[services.StepIn], str]:
    steps, problem = [], ""
    for position, r in enumerate(rows, start=1):
        if not r["kind"]:
            continue
        deadline: int | None = None
        if str(r["deadline"]).strip():
            try:
                deadline = int(str(r["deadline"]).strip())
            except ValueError:
                problem = _("Step %(n)d: the deadline is a number of working days.") % {
                    "n": position
                }
                deadline = None
        user = user_picked(r["user"]) if r["kind"] == ApproverKind.USER else None
        steps.append(services.StepIn(r["kind"], user, deadline))
    return steps, problem


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    editable = _require_viewer(request)
    rows = [
        {"group": group, "summary": ps.policy_summary(ps.policy_of(group))} for group in ps.groups()
    ]
    return render(request, "corrections/settings/index.html", {"rows": rows, "editable": editable})


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, group: str) -> HttpResponse:
    editable = _require_viewer(request)
    group = get_object_or_404(AttendanceGroup, code=group[:FIELD_MAX])
    row = ps.policy_of(group)
    posted = request.method == "POST"
    if posted and not editable:
        raise PermissionDenied
    data = request.POST if posted else None
    form = PolicyForm(data, initial=_initial(row))
    categories = _category_rows(data, row)
    steps = _step_rows(data, row)
    errors: dict[str, str] = {}
    status = 200
    if posted:
        status = 422
        step_list, step_problem = _steps_in(steps)
        if step_problem:
            errors["steps"] = step_problem
        elif form.is_valid():
            try:
                services.correction_policy_save(
                    actor=request.user,
                    group=group,
                    fields={k: form.cleaned_data[k] for k in services.POLICY_FIELDS},
                    categories=[
                        services.CategoryIn(c["name"], c["att"], c["active"], c["code"])
                        for c in categories
                        if c["name"].strip() or c["code"]
                    ],
                    steps=step_list,
                )
            except DomainError as exc:
                field = (
                    (exc.details or {}).get("field", "") if isinstance(exc.details, dict) else ""
                )
                if field in form.fields:
                    form.add_error(field, exc.message)
                else:
                    errors[field or "top"] = exc.message
            else:
                messages.success(
                    request, _("Correction policy of %(group)s saved.") % {"group": group.name}
                )
                return redirect("policy_settings:edit", group=group.code)
    context = {
        "group": group,
        "form": form,
        "categories": categories,
        "steps": steps,
        "kinds": ApproverKind.choices,
        "errors": errors,
        "editable": editable,
        "summary": ps.policy_summary(row),
        "people": picker_people() if editable else [],
    }
    return render(request, "corrections/settings/edit.html", context, status=status)
