"""Leave, outing and business-trip pages (请假/外出/出差): the apply form with its live
preview, my requests, one request with its actions, the team calendar of who is away, the
ledger of balances, HR's balances page (opening balance, adjustment, CSV import) and the
balances report. The project mounts ``urls`` at /absences/.

Views only parse input, call one service or selector and render; refusals come from the
services (stable codes) and are shown next to the field they concern, with what was typed
kept (HTTP 422). Nothing is written when a request is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ztk.attendance.days import employee_zone
from ztk.core.errors import DomainError, NotFoundError
from ztk.core.input_guard import text_checked
from ztk.core.parse import parse_clock, parse_day, parse_month
from ztk.core.spreadsheets import csv_bytes
from ztk.org.models import Department, Employee
from ztk.org.rules import can_approve, can_see_team, employee_of, is_hr, is_sysadmin
from ztk.org.selectors import employee_for, employees_visible_to

from . import absence_services as absences
from . import planning, selectors, services
from .models import AbsenceRequest, Kind, LeaveType, Part, Status, Unit
from .rules import is_participant, may_act, may_file_for, may_see_employee

PAGE_SIZE = 20
MAX_FILES = 5
TEXT_MAX = 500

# Where a refusal is shown on the apply form (the rest on top of the form).
FIELD_OF_CODE = {
    planning.BAD_TYPE: "leave_type",
    planning.BAD_RANGE: "range",
    planning.NO_WORKING_TIME: "range",
    planning.OVERLAPS_EXISTING: "range",
    planning.PERIOD_CLOSED: "range",
    planning.NOTICE_TOO_SHORT: "range",
    planning.INSUFFICIENT_BALANCE: "leave_type",
    planning.ATTACHMENT_REQUIRED: "attachments",
    "destination_required": "destination",
    "too_many_attachments": "attachments",
    "attachment_type": "attachments",
    "attachment_too_large": "attachments",
    "self_apply_off": "kind",
}


def _is_hr(user: Any) -> bool:
    return bool(is_hr(user) or is_sysadmin(user))


def _nav(request: HttpRequest, here: str) -> dict[str, Any]:
    user = request.user
    return {
        "nav_here": here,
        "nav_team": bool(can_see_team(user)),
        "nav_hr": _is_hr(user),
        "nav_inbox": bool(can_approve(user)),
    }


def _employee(request: HttpRequest, number: str | None, may=may_file_for) -> Employee:
    try:
        return employee_for(request.user, number, may=may)
    except NotFoundError:
        raise Http404 from None


def _get(request: HttpRequest, pk: int) -> AbsenceRequest:
    try:
        return selectors.absence_get(request.user, pk)
    except NotFoundError:
        raise Http404 from None


def amount_text(value: Decimal | None, leave_type: LeaveType | None, hours: bool = False) -> str:
    if value is None:
        return ""
    if leave_type is None:
        leave_type = LeaveType(unit=Unit.HOUR if hours else Unit.HALF_DAY)
    return services.fmt_amount(value, leave_type)


# --------------------------------------------------------------------------- apply form


@dataclass
class FormState:
    kind: str = Kind.LEAVE
    leave_type: str = ""
    start_date: str = ""
    end_date: str = ""
    start_part: str = Part.FULL
    end_part: str = Part.FULL
    by_hours: bool = False
    start_time: str = ""
    end_time: str = ""
    destination: str = ""
    purpose: str = ""
    reason: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)

    def add_error(self, where: str, message: str) -> None:
        self.errors.setdefault(where, [])
        if message not in self.errors[where]:
            self.errors[where].append(message)
        if message not in self.summary:
            self.summary.append(message)


def _state(data: Any, types: dict[str, LeaveType]) -> FormState:
    kind = data.get("kind", Kind.LEAVE)
    if kind not in Kind.values:
        kind = Kind.LEAVE
    code = data.get("leave_type", "")
    if code not in types:
        code = next(iter(types), "")
    day = data.get("day") or data.get("start_date") or ""
    state = FormState(
        kind=kind,
        leave_type=code,
        start_date=str(day)[:10],
        end_date=str(data.get("end_date") or day)[:10],
        start_part=data.get("start_part", Part.FULL),
        end_part=data.get("end_part", Part.FULL),
        by_hours=data.get("by") == "hours",
        start_time=str(data.get("start_time", ""))[:5],
        end_time=str(data.get("end_time", ""))[:5],
        destination=str(data.get("destination", ""))[:120],
        purpose=str(data.get("purpose", ""))[:300],
        reason=str(data.get("reason", ""))[:TEXT_MAX],
    )
    if kind == Kind.LEAVE and code and types[code].unit == Unit.HOUR:
        state.by_hours = True
    if state.start_part not in Part.values:
        state.start_part = Part.FULL
    if state.end_part not in Part.values:
        state.end_part = Part.FULL
    return state


def _spec(employee: Employee, state: FormState, types: dict[str, LeaveType],
          attachments: int) -> planning.Spec:  # fmt: skip
    """The request as the services take it (raises DomainError(bad_range) on bad input)."""
    start = parse_day(state.start_date)
    end = parse_day(state.end_date) if state.end_date else start
    if start is None or end is None:
        raise DomainError(planning.BAD_RANGE, _("Give the dates of the request."))
    leave_type = types.get(state.leave_type) if state.kind == Kind.LEAVE else None
    spec = planning.Spec(kind=state.kind, start_date=start, end_date=end,
                         leave_type=leave_type, attachments=attachments)  # fmt: skip
    if state.by_hours:
        begin, finish = parse_clock(state.start_time), parse_clock(state.end_time)
        if begin is None or finish is None:
            raise DomainError(planning.BAD_RANGE, _("Give the start and end times."))
        tz = employee_zone(employee)
        spec.start_at = datetime.combine(start, begin, tz)
        spec.end_at = datetime.combine(end, finish, tz)
        spec.end_date = end
    else:
        spec.start_part = state.start_part
        spec.end_part = state.end_part if end != start else state.start_part
        if end == start and state.start_part == Part.FULL:
            spec.end_part = state.end_part
    return spec


@dataclass
class DayRow:
    day: date
    span: str
    amount: str
    verdict: str


def _verdict(kind: str, whole: bool, exempt: bool) -> str:
    label = {Kind.LEAVE: _("Leave"), Kind.OUTING: _("Outing"), Kind.TRIP: _("Business trip")}
    name = label.get(kind, "")
    if not exempt:
        return _("Field punches expected (%(what)s)") % {"what": name}
    if whole:
        return _("%(what)s: the whole day, no punches expected") % {"what": name}
    return _("%(what)s for this time; the other slots are judged by your punches") % {"what": name}


def _preview_rows(employee: Employee, planned: planning.Planned) -> list[DayRow]:
    tz = employee_zone(employee)
    spec = planned.spec
    exempt = planning.exempts(spec.kind, planning.policy_row_for(employee.attendance_group))
    rows = []
    for i in planned.intervals:
        whole = not (
            spec.start_at is not None
            or (i.day == spec.start_date and spec.start_part != Part.FULL)
            or (i.day == spec.end_date and spec.end_part != Part.FULL)
        )
        start, end = i.start.astimezone(tz), i.end.astimezone(tz)
        span = f"{start:%H:%M}–{end:%H:%M}" + (f" (+{(end.date() - i.day).days})"
                                                if end.date() > i.day else "")  # fmt: skip
        rows.append(DayRow(i.day, span, amount_text(i.amount, spec.leave_type, bool(spec.start_at)),
                           _verdict(spec.kind, whole, exempt)))  # fmt: skip
    return rows


def _plan(employee: Employee, state: FormState, types: dict[str, LeaveType],
          attachments: int) -> planning.Planned | None:  # fmt: skip
    try:
        spec = _spec(employee, state, types, attachments)
        return planning.plan_request(employee, spec)
    except DomainError as error:
        state.add_error(FIELD_OF_CODE.get(error.code, "range"), error.message)
        return None


def _apply_context(request: HttpRequest, employee: Employee, state: FormState,
                   types: dict[str, LeaveType], planned: planning.Planned | None,
                   show_refusals: bool) -> dict[str, Any]:  # fmt: skip
    if planned is not None and show_refusals:
        for refusal in planned.refusals:
            if refusal.code == planning.ATTACHMENT_REQUIRED:
                continue  # files are not sent with the preview
            state.add_error(FIELD_OF_CODE.get(refusal.code, "range"), refusal.message)
    chosen = types.get(state.leave_type)
    balances = [(t, b, services.fmt_amount(b, t)) for t, b in selectors.balances_for(employee)]
    return {
        "employee": employee,
        "on_behalf": employee.user_id != request.user.pk,
        "state": state,
        "types": list(types.values()),
        "chosen": chosen,
        "kinds": Kind.choices,
        "parts": Part.choices,
        "balances": balances,
        "balance_now": (
            services.fmt_amount(selectors.balance_of(employee, chosen), chosen)
            if chosen is not None and chosen.balance_tracked
            else ""
        ),  # fmt: skip
        "planned": planned,
        "amount": (
            amount_text(planned.amount, planned.spec.leave_type, planned.in_hours)
            if planned is not None
            else ""
        ),  # fmt: skip
        "rows": _preview_rows(employee, planned) if planned is not None else [],
        **_nav(request, "new"),
    }


def _types() -> dict[str, LeaveType]:
    return {t.code: t for t in LeaveType.objects.filter(active=True).order_by("order", "code")}


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """Apply for leave, an outing or a business trip (from the day page or the month)."""
    data = request.POST if request.method == "POST" else request.GET
    employee = _employee(request, data.get("employee"))
    types = _types()
    state = _state(data, types)
    if request.method != "POST":
        planned = _plan(employee, state, types, 0) if state.start_date else None
        context = _apply_context(request, employee, state, types, planned, False)
        return render(request, "leave/apply.html", context)
    files = [f for f in request.FILES.getlist("attachments")[: MAX_FILES + 1] if f]
    try:
        spec = _spec(employee, state, types, len(files))
        req = absences.absence_submit(
            actor=request.user,
            employee=employee,
            kind=spec.kind,
            start_date=spec.start_date,
            end_date=spec.end_date,
            leave_type=spec.leave_type,
            start_part=spec.start_part,
            end_part=spec.end_part,
            start_at=spec.start_at,
            end_at=spec.end_at,
            destination=state.destination,
            purpose=state.purpose,
            reason=state.reason,
            attachments=files,
        )
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        state.add_error(FIELD_OF_CODE.get(error.code, "range"), error.message)
        planned = _plan(employee, FormState(**{**state.__dict__, "errors": {}, "summary": []}),
                        types, len(files))  # fmt: skip
        context = _apply_context(request, employee, state, types, planned, False)
        return render(request, "leave/apply.html", context, status=422)
    messages.success(request, _("Request #%(id)s was submitted.") % {"id": req.pk})
    return redirect("absences:detail", pk=req.pk)


@login_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The live preview (htmx): the amount, the balance and each day affected."""
    employee = _employee(request, request.POST.get("employee"))
    types = _types()
    state = _state(request.POST, types)
    planned = _plan(employee, state, types, 0) if state.start_date else None
    context = _apply_context(request, employee, state, types, planned, True)
    return render(request, "leave/_preview.html", context)


# --------------------------------------------------------------------------- my requests


@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    """我的请假: my absence requests with their status, newest first."""
    qs = selectors.absences_for(request.user, scope="mine")
    status = request.GET.get("status", "")
    if status in Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    me = employee_of(request.user)
    balances = []
    if me is not None:
        balances = [(t, services.fmt_amount(b, t)) for t, b in selectors.balances_for(me)]
    return render(request, "leave/mine.html", {
        "page": page, "status": status, "statuses": Status.choices, "balances": balances,
        "has_employee": me is not None, **_nav(request, "mine"),
    })  # fmt: skip


def _describe(req: AbsenceRequest) -> dict[str, Any]:
    tz = employee_zone(req.employee)
    if req.start_at is not None and req.end_at is not None:
        span = (f"{req.start_at.astimezone(tz):%Y-%m-%d %H:%M} – "
                f"{req.end_at.astimezone(tz):%Y-%m-%d %H:%M}")  # fmt: skip
    else:
        parts = dict(Part.choices)
        span = f"{req.start_date:%Y-%m-%d} {parts[req.start_part]}"
        if req.end_date != req.start_date or req.end_part != req.start_part:
            span += f" – {req.end_date:%Y-%m-%d} {parts[req.end_part]}"
    return {
        "what": absences.what(req) if req.leave_type_id is None else req.leave_type.name,
        "span": span,
        "amount": amount_text(req.amount, req.leave_type, req.start_at is not None),
    }


@login_required
@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get(request, pk)
    user = request.user
    pending_cancel = req.cancellations.filter(status=Status.PENDING).exists()
    return render(request, "leave/detail.html", {
        "req": req,
        "d": _describe(req),
        "actions": list(req.actions.all()),
        "may_act": may_act(user, req),
        "may_withdraw": req.status == Status.PENDING and is_participant(user, req),
        "may_cancel": (req.status == Status.APPROVED and req.cancels_id is None
                       and not pending_cancel and may_file_for(user, req.employee)),
        "pending_cancel": pending_cancel,
        **_nav(request, "mine"),
    })  # fmt: skip


def _act(request: HttpRequest, pk: int, run, done: str) -> HttpResponse:
    req = _get(request, pk)
    try:
        result = run(req)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        if error.status == 404:
            raise Http404 from None
        messages.error(request, error.message)
        return redirect("absences:detail", pk=req.pk)
    messages.success(request, done)
    target = result.pk if isinstance(result, AbsenceRequest) else req.pk
    return redirect("absences:detail", pk=target)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda r: absences.absence_withdraw(actor=request.user, request=r),
                _("The request was withdrawn."))  # fmt: skip


@text_checked
@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")[:TEXT_MAX]
    return _act(request, pk, lambda r: absences.absence_cancel(actor=request.user, request=r,
                                                                reason=reason),
                _("The cancellation (销假) was submitted."))  # fmt: skip


@text_checked
@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    comment = request.POST.get("comment", "")[:1000]
    return _act(request, pk, lambda r: absences.absence_approve(actor=request.user, request=r,
                                                                comment=comment),
                _("Approved."))  # fmt: skip


@text_checked
@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")[:1000]
    return _act(request, pk, lambda r: absences.absence_reject(actor=request.user, request=r,
                                                               reason=reason),
                _("Rejected."))  # fmt: skip


# --------------------------------------------------------------------------- who is away


def _month_of(value: str | None, today: date) -> date:
    found = parse_month(value)
    if found is None:
        return today.replace(day=1)
    return date(found[0], found[1], 1)


@login_required
@require_safe
def away_calendar(request: HttpRequest) -> HttpResponse:
    """Who is away this month: a supervisor's team, a department head's department, or
    (HR) any department."""
    user = request.user
    if not (can_see_team(user) or _is_hr(user)):
        raise PermissionDenied
    first = _month_of(request.GET.get("month"), timezone.localdate())
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    people = employees_visible_to(user)
    departments = Department.objects.none()
    chosen = request.GET.get("department", "")[:32]
    if _is_hr(user):
        departments = Department.objects.order_by("code")
        if chosen:
            people = people.filter(department__code=chosen)
    rows = selectors.away(user, first, last, employees=people)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    grid: dict[int, dict[str, Any]] = {}
    for req in rows:
        entry = grid.setdefault(req.employee_id, {"employee": req.employee, "cells": {},
                                                  "requests": []})  # fmt: skip
        entry["requests"].append((req, _describe(req)))
        for d in days:
            if req.start_date <= d <= req.end_date:
                entry["cells"][d] = req
    table = []
    for entry in grid.values():
        cells = [(d, entry["cells"].get(d)) for d in days]
        table.append({**entry, "cells": cells})
    prev_month = (first - timedelta(days=1)).replace(day=1)
    next_month = last + timedelta(days=1)
    return render(request, "leave/away.html", {
        "first": first, "days": days, "table": table, "departments": departments,
        "department": chosen, "prev": f"{prev_month:%Y-%m}", "next": f"{next_month:%Y-%m}",
        **_nav(request, "away"),
    })  # fmt: skip


# --------------------------------------------------------------------------- balances


@login_required
@require_safe
def ledger(request: HttpRequest) -> HttpResponse:
    """My balances and every movement of them (the supervisor, heads and HR: ?employee=)."""
    employee = _employee(request, request.GET.get("employee"), may=may_see_employee)
    balances = [(t, services.fmt_amount(b, t)) for t, b in selectors.balances_for(employee)]
    entries = [(e, services.fmt_amount(e.amount, e.leave_type),
                services.fmt_amount(e.balance_after, e.leave_type))
               for e in selectors.ledger_of(employee)]  # fmt: skip
    return render(request, "leave/ledger.html", {
        "employee": employee, "balances": balances, "entries": entries,
        "own": employee.user_id == request.user.pk, **_nav(request, "ledger"),
    })  # fmt: skip


def _require_hr(request: HttpRequest) -> None:
    if not _is_hr(request.user):
        raise PermissionDenied


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def hr_balances(request: HttpRequest) -> HttpResponse:
    """HR: one employee's balances — set the opening balance or adjust, with a note."""
    _require_hr(request)
    data = request.POST if request.method == "POST" else request.GET
    number = (data.get("employee") or "").strip()
    employee = None
    errors: dict[str, str] = {}
    if number:
        employee = _employee(request, number, may=lambda u, e: True)
    status = 200
    if request.method == "POST":
        if employee is None:
            raise Http404
        action = request.POST.get("action", "")
        try:
            if action == "opening":
                services.balance_set_opening(
                    actor=request.user, employee=employee,
                    leave_type=request.POST.get("leave_type", ""),
                    balance=request.POST.get("amount", ""), note=request.POST.get("note", ""),
                )  # fmt: skip
            elif action == "adjust":
                services.balance_adjust(
                    actor=request.user, employee=employee,
                    leave_type=request.POST.get("leave_type", ""),
                    amount=request.POST.get("amount", ""), note=request.POST.get("note", ""),
                )  # fmt: skip
            else:
                raise DomainError("bad_action", _("Choose what to do."))
        except DomainError as error:
            if error.status == 403:
                raise PermissionDenied from None
            errors[action if action in ("opening", "adjust") else "opening"] = error.message
            status = 422
        else:
            messages.success(request, _("The balance was updated."))
            return redirect(f"{reverse('absences:hr_balances')}?employee={employee.employee_no}")
    context: dict[str, Any] = {"employee": employee, "number": number, "errors": errors,
                               "tracked": LeaveType.objects.filter(balance_tracked=True,
                                                                   active=True)}  # fmt: skip
    if employee is not None:
        context["balances"] = [(t, services.fmt_amount(b, t))
                               for t, b in selectors.balances_for(employee)]  # fmt: skip
        context["entries"] = [(e, services.fmt_amount(e.amount, e.leave_type),
                               services.fmt_amount(e.balance_after, e.leave_type))
                              for e in selectors.ledger_of(employee)]  # fmt: skip
    return render(request, "leave/hr_balances.html", {**context, **_nav(request, "hr")},
                  status=status)  # fmt: skip


@login_required
@require_POST
def hr_import(request: HttpRequest) -> HttpResponse:
    """HR: opening balances from a CSV file (employee_no,type,balance), all or nothing."""
    _require_hr(request)
    upload = request.FILES.get("file")
    errors: list[str] = []
    if upload is None:
        errors.append(_("Choose a CSV file."))
    else:
        try:
            result = services.balances_import(actor=request.user, content=upload.read(2_000_000))
        except DomainError as error:
            errors.append(error.message)
            for item in error.details if isinstance(error.details, list) else []:
                errors.append(_("Line %(line)s: %(message)s") % item)
        else:
            messages.success(
                request,
                _("%(applied)s balances set, %(unchanged)s unchanged.")
                % {"applied": result.applied, "unchanged": result.unchanged},
            )
            return redirect("absences:hr_balances")
    return render(request, "leave/hr_balances.html", {
        "employee": None, "number": "", "errors": {}, "import_errors": errors,
        "tracked": LeaveType.objects.filter(balance_tracked=True, active=True),
        **_nav(request, "hr"),
    }, status=422)  # fmt: skip


@login_required
@require_safe
def balances_report(request: HttpRequest) -> HttpResponse:
    """余额报表: every employee's balance of every tracked type (page, or ?format=csv)."""
    _require_hr(request)
    chosen = request.GET.get("department", "")[:32]
    types, rows = selectors.balances_table(department=chosen or None)
    if request.GET.get("format") == "csv":
        table = [["employee_no", "name", "department", *[t.code for t in types]]]
        for row in rows:
            person = row["employee"]
            department_name = person.department.name if person.department else ""
            table.append([person.employee_no, person.name, department_name,
                          *[f"{v:f}" for v in row["values"]]])  # fmt: skip
        response = HttpResponse(csv_bytes(table), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="balances.csv"'
        return response
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    shown = [{**r, "texts": [services.fmt_amount(v, t) for t, v in zip(types, r["values"],
                                                                       strict=True)]}
             for r in page.object_list]  # fmt: skip
    return render(request, "leave/report.html", {
        "types": types, "rows": shown, "page": page, "department": chosen,
        "departments": Department.objects.order_by("code"), **_nav(request, "report"),
    })  # fmt: skip
