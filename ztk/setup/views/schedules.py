"""/settings/schedules/: each group's weekly pattern, and the roster month grid.

HR and system admins change them; auditors read. Thin: parse the form, call one
``ztk.scheduling.services`` function (permission-checked, audited, recompute queued), show
its refusal with what was typed kept (HTTP 422), or go back to the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ztk.core import uploads
from ztk.core.errors import DomainError
from ztk.core.parse import parse_day, parse_int, parse_month
from ztk.org.models import AttendanceGroup, Department, Employee
from ztk.org.rules import can_change_settings, can_view_settings
from ztk.scheduling import roster_csv, selectors, services
from ztk.scheduling.models import (
    PATTERN,
    PATTERN_EPOCH,
    REST,
    WEEKDAY_FIELDS,
    WEEKDAY_LABELS,
    Shift,
    WeeklyPattern,
)
from ztk.scheduling.services import RosterCell

CODE_MAX = 32
# The grid's column heads: one narrow label per weekday (zh-hans: 一 … 日).
WEEKDAY_SHORT = (
    pgettext_lazy("weekday, grid column", "Mo"),
    pgettext_lazy("weekday, grid column", "Tu"),
    pgettext_lazy("weekday, grid column", "We"),
    pgettext_lazy("weekday, grid column", "Th"),
    pgettext_lazy("weekday, grid column", "Fr"),
    pgettext_lazy("weekday, grid column", "Sa"),
    pgettext_lazy("weekday, grid column", "Su"),
)


def _require_viewer(request: HttpRequest) -> bool:
    """True when the user may change, False when only read; 403 for everyone else."""
    if not can_view_settings(request.user):
        raise PermissionDenied
    return bool(can_change_settings(request.user))


def _require_changer(request: HttpRequest) -> None:
    if not can_change_settings(request.user):
        raise PermissionDenied


def _shift_choices() -> list[Shift]:
    return list(selectors.shift_list(active=True))


def _in_force(versions: list[WeeklyPattern], day: date) -> WeeklyPattern | None:
    found = None
    for version in versions:
        if version.effective_from <= day:
            found = version
    return found


def _codes(pattern: WeeklyPattern | None) -> list[str]:
    if pattern is None:
        return [""] * 7
    return [
        getattr(pattern, f"{name}_id") and getattr(pattern, name).code for name in WEEKDAY_FIELDS
    ]


# --------------------------------------------------------------------------- patterns


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    can_change = _require_viewer(request)
    today = timezone.localdate()
    groups = []
    for group in AttendanceGroup.objects.filter(active=True).order_by("code"):
        versions = list(selectors.pattern_versions(group.pk))
        current = _in_force(versions, today)
        upcoming = [v for v in versions if v.effective_from > today]
        groups.append(
            {
                "group": group,
                "current": current,
                "days": list(zip(WEEKDAY_LABELS, _codes(current), strict=True)),
                "upcoming": upcoming,
                "members": Employee.objects.filter(attendance_group=group, active=True).count(),
            }
        )
    return render(
        request,
        "setup/schedules.html",
        {
            "groups": groups,
            "can_change": can_change,
            "departments": Department.objects.filter(active=True).order_by("code"),
            "month": today.strftime("%Y-%m"),
        },
    )


@dataclass
class PatternForm:
    effective_from: str
    days: list[str]
    makeup: str
    use_work_calendar: bool


def _pattern_form(data: QueryDict) -> PatternForm:
    return PatternForm(
        effective_from=data.get("effective_from", "").strip()[:40],
        days=[data.get(f"day-{i}", "").strip()[:CODE_MAX] for i in range(7)],
        makeup=data.get("makeup", "").strip()[:CODE_MAX],
        use_work_calendar=bool(data.get("use_work_calendar")),
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def pattern(request: HttpRequest, code: str) -> HttpResponse:
    can_change = _require_viewer(request)
    group = get_object_or_404(AttendanceGroup, code=code[:CODE_MAX])
    versions = list(selectors.pattern_versions(group.pk))
    today = timezone.localdate()
    current = _in_force(versions, today)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    form = PatternForm(
        # A group's first pattern starts today: "always" would judge the days its members
        # worked before (in another group or none) by it, once they are moved in.
        effective_from=next_month.isoformat() if versions else today.isoformat(),
        days=_codes(current),
        makeup=current.default_workday_shift.code
        if current is not None and current.default_workday_shift_id
        else "",
        use_work_calendar=current.use_work_calendar if current is not None else True,
    )
    errors: list[str] = []
    if request.method == "POST":
        _require_changer(request)
        form = _pattern_form(request.POST)
        wanted = {c for c in [*form.days, form.makeup] if c}
        shifts = {s.code: s for s in Shift.objects.filter(code__in=wanted)}
        for c in sorted(wanted - set(shifts)):
            errors.append(_("No shift with code “%(code)s”.") % {"code": c})
        effective_from = parse_day(form.effective_from)
        if effective_from is None:
            errors.append(
                _("Effective from: “%(value)s” is not a date (YYYY-MM-DD).")
                % {"value": form.effective_from}
            )
        if not errors:
            assert effective_from is not None
            try:
                services.pattern_set(
                    actor=request.user,
                    group=group,
                    shifts=[shifts.get(c) if c else None for c in form.days],
                    default_workday_shift=shifts.get(form.makeup) if form.makeup else None,
                    use_work_calendar=form.use_work_calendar,
                    effective_from=effective_from,
                )
            except DomainError as exc:
                errors.append(exc.message)
            else:
                messages.success(
                    request,
                    _("The weekly pattern of %(group)s from %(day)s is saved.")
                    % {"group": group.name, "day": effective_from.isoformat()},
                )
                return redirect("settings:pattern", code=group.code)
    rows = [
        {
            "version": v,
            "codes": _codes(v),
            "in_force": current is not None and v.pk == current.pk,
            "epoch": v.effective_from <= PATTERN_EPOCH,
        }
        for v in versions
    ]
    return render(
        request,
        "setup/pattern.html",
        {
            "group": group,
            "rows": rows,
            "can_change": can_change,
            "form": form,
            "form_days": list(zip(range(7), WEEKDAY_LABELS, form.days, strict=True)),
            "weekday_labels": WEEKDAY_LABELS,
            "shifts": _shift_choices(),
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@login_required
@require_POST
def pattern_delete(request: HttpRequest, code: str, day: str) -> HttpResponse:
    _require_changer(request)
    group = get_object_or_404(AttendanceGroup, code=code[:CODE_MAX])
    effective_from = parse_day(day, first=PATTERN_EPOCH)
    version = (
        WeeklyPattern.objects.filter(group=group, effective_from=effective_from).first()
        if effective_from is not None
        else None
    )
    if version is None:
        raise Http404
    try:
        services.pattern_delete(actor=request.user, pattern=version)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The version from %(day)s is removed.") % {"day": effective_from}
        )
    return redirect("settings:pattern", code=group.code)


# --------------------------------------------------------------------------- the roster


@dataclass
class Scope:
    group: AttendanceGroup | None
    department: Department | None
    start: date
    end: date

    @property
    def month(self) -> str:
        return self.start.strftime("%Y-%m")

    def query(self, **more: str) -> str:
        params = {"month": self.month}
        if self.group is not None:
            params["group"] = self.group.code
        if self.department is not None:
            params["department"] = self.department.code
        params.update(more)
        return urlencode(params)

    def url(self, name: str = "settings:roster", **more: str) -> str:
        return f"{reverse(name)}?{self.query(**more)}"

    def people(self) -> list[Employee]:
        if self.group is None and self.department is None:
            return []
        return list(
            selectors.roster_people(
                group_id=self.group.pk if self.group else None,
                department_id=self.department.pk if self.department else None,
                start=self.start,
                end=self.end,
            )[: selectors.MAX_GRID_EMPLOYEES + 1]
        )


def _scope(data: QueryDict) -> Scope:
    group_code = data.get("group", "").strip()[:CODE_MAX]
    department_code = data.get("department", "").strip()[:CODE_MAX]
    group = AttendanceGroup.objects.filter(code=group_code).first() if group_code else None
    department = (
        Department.objects.filter(code=department_code).first() if department_code else None
    )
    if group is None and department is None and not group_code and not department_code:
        group = AttendanceGroup.objects.filter(active=True).order_by("code").first()
    month = parse_month(data.get("month", ""))
    if month is None:
        today = timezone.localdate()
        month = (today.year, today.month)
    start, end = selectors.month_bounds(*month)
    return Scope(group, department, start, end)


def _cell(employee: Employee, day: date, value: str) -> RosterCell:
    """A form's value: PATTERN (""), REST (休) or a shift code (unknown: DomainError)."""
    if value == PATTERN:
        return RosterCell(employee.pk, day, clear=True)
    if value == REST:
        return RosterCell(employee.pk, day, shift=None)
    shift = Shift.objects.filter(code=value).first()
    if shift is None:
        raise DomainError(
            services.INVALID_SHIFT, _("No shift with code “%(code)s”.") % {"code": value}
        )
    return RosterCell(employee.pk, day, shift=shift)


@login_required
@require_safe
def roster(request: HttpRequest) -> HttpResponse:
    can_change = _require_viewer(request)
    scope = _scope(request.GET)
    people = scope.people()
    truncated = len(people) > selectors.MAX_GRID_EMPLOYEES
    people = people[: selectors.MAX_GRID_EMPLOYEES]
    try:
        rows = selectors.roster_grid(people, scope.start, scope.end)
        plan_error = ""
    except ValueError as exc:  # a shift without segments cannot be planned
        rows, plan_error = [], str(exc)
    days = [scope.start + timedelta(days=i) for i in range((scope.end - scope.start).days + 1)]
    unplanned = [(row.employee, _ranges(row.unplanned)) for row in rows if row.unplanned]
    shown = [
        {"employee": row.employee, "cells": _cells_html(row, scope.query(), can_change)}
        for row in rows
    ]
    picked = None
    cell_param = request.GET.get("cell", "")[:60]
    if cell_param and ":" in cell_param:
        number, _sep, day_text = cell_param.partition(":")
        day = parse_day(day_text)
        for row in rows:
            if row.employee.employee_no == number and day is not None:
                picked = next((c for c in row.cells if c.day == day), None)
                if picked is not None:
                    picked = {"employee": row.employee, "cell": picked}
                break
    previous = (scope.start - timedelta(days=1)).replace(day=1)
    following = scope.end + timedelta(days=1)
    copy_changes = None
    if can_change and people and not truncated:
        try:
            preview, _changes = services.roster_copy_previous_month(
                actor=request.user, employees=people, month=scope.start, dry_run=True
            )
            copy_changes = len(preview.changed)
        except DomainError:
            copy_changes = None
    return render(
        request,
        "setup/roster.html",
        {
            "scope": scope,
            "rows": shown,
            "days": [(d, d.weekday() >= 5, WEEKDAY_SHORT[d.weekday()]) for d in days],
            "unplanned": unplanned,
            "truncated": truncated,
            "max_employees": selectors.MAX_GRID_EMPLOYEES,
            "plan_error": plan_error,
            "picked": picked,
            "can_change": can_change,
            "shifts": _shift_choices(),
            "groups": AttendanceGroup.objects.filter(active=True).order_by("code"),
            "departments": Department.objects.filter(active=True).order_by("code"),
            "previous_url": scope.url(month=previous.strftime("%Y-%m")),
            "next_url": scope.url(month=following.strftime("%Y-%m")),
            "copy_from": previous.strftime("%Y-%m"),
            "copy_changes": copy_changes,
            "rest": REST,
            "weekday_labels": WEEKDAY_LABELS,
            "focus": parse_day(request.GET.get("focus", "")),
        },
    )


def _ranges(days: list[date]) -> str:
    """12-01–12-05, 12-08: consecutive dates as ranges."""
    parts: list[str] = []
    run: list[date] = []
    for day in [*days, None]:
        if day is not None and run and day == run[-1] + timedelta(days=1):
            run.append(day)
            continue
        if run:
            first, last = run[0].strftime("%m-%d"), run[-1].strftime("%m-%d")
            parts.append(first if first == last else f"{first}–{last}")
        run = [day] if day is not None else []
    return ", ".join(parts)


def _cells_html(row: selectors.GridRow, query: str, can_change: bool) -> SafeString:
    """A grid row's cells as HTML, built here rather than in the template: a month of 300
    people is 9,300 cells, which the template language renders in seconds.

    Each cell: the roster entry in bold, the pattern's plan faint (CSS classes), a title
    saying which; for those who may change it, a link that opens the set-a-day form
    (?cell=, without JavaScript) or the dialog (roster.js reads the row's and cell's data).
    Every value goes through ``format_html`` (escaped).
    """
    titles = {
        "out": _("not employed"),
        "none": _("no plan: no weekly pattern and no roster entry"),
        "holiday": _("public holiday"),
        "rest": _("rest day"),
    }
    texts = {"out": "", "none": "!", "holiday": "节", "rest": REST}
    sources = {True: _("roster"), False: _("weekly pattern")}
    link = f"?{query}&cell={quote(row.employee.employee_no)}:"
    parts = []
    for cell in row.cells:
        day = cell.day.isoformat()
        text = texts.get(cell.kind, cell.code)
        title = f"{day} · {titles.get(cell.kind, cell.code)} · {sources[cell.override]}"
        classes = f"k-{cell.kind} {'override' if cell.override else 'pattern'}"
        if can_change and cell.kind != "out":
            inner = format_html(
                '<a href="{}#set-cell" data-value="{}">{}</a>', link + day, cell.value, text or "·"
            )
        else:
            inner = format_html("{}", text)
        parts.append((classes, title, day, inner))
    return format_html_join("", '<td class="{}" title="{}" data-day="{}">{}</td>', parts)


def _back(scope: Scope, anchor: str = "", **more: str) -> HttpResponse:
    return redirect(scope.url(**more) + (f"#{anchor}" if anchor else ""))


def _employee(number: str) -> Employee | None:
    number = number.strip()[:24]
    return Employee.objects.filter(employee_no=number).first() if number else None


@login_required
@require_POST
def roster_set(request: HttpRequest) -> HttpResponse:
    """One cell: a shift, rest, or back to the weekly pattern."""
    _require_changer(request)
    scope = _scope(request.POST)
    employee = _employee(request.POST.get("employee", ""))
    day = parse_day(request.POST.get("day", ""))
    value = request.POST.get("value", "").strip()[:CODE_MAX]
    if employee is None or day is None:
        messages.error(request, _("Choose an employee and a date."))
        return _back(scope)
    try:
        result, _changes = services.roster_apply(
            actor=request.user, cells=[_cell(employee, day, value)], source="settings.cell"
        )
    except DomainError as exc:
        messages.error(request, _details_message(exc))
    else:
        if result.changed:
            messages.success(
                request,
                _("%(name)s on %(day)s: %(value)s.")
                % {"name": employee.name, "day": day.isoformat(), "value": _label(value)},
            )
    return _back(scope, f"row-{employee.employee_no}", focus=day.isoformat())


def _label(value: str) -> str:
    if value == PATTERN:
        return _("follows the weekly pattern")
    if value == REST:
        return _("rest day")
    return value


def _details_message(exc: DomainError) -> str:
    if isinstance(exc.details, list) and exc.details:
        return "; ".join(str(item.get("message", "")) for item in exc.details[:5])
    return exc.message


@login_required
@require_POST
def roster_fill(request: HttpRequest) -> HttpResponse:
    """Employees × a date range (optionally some weekdays) → a shift, rest or the pattern."""
    _require_changer(request)
    scope = _scope(request.POST)
    if request.POST.get("all"):
        employees = scope.people()[: selectors.MAX_GRID_EMPLOYEES]
    else:
        numbers = [n.strip()[:24] for n in request.POST.getlist("employees")[:1000]]
        employees = list(Employee.objects.filter(employee_no__in=numbers))
    start = parse_day(request.POST.get("start", ""))
    end = parse_day(request.POST.get("end", ""))
    weekdays = {
        n
        for w in request.POST.getlist("weekdays")[:7]
        if (n := parse_int(w, maximum=6)) is not None
    }
    value = request.POST.get("value", "").strip()[:CODE_MAX]
    if not employees:
        messages.error(request, _("Tick at least one employee (or “everyone shown”)."))
        return _back(scope, "fill")
    if start is None or end is None:
        messages.error(request, _("Give the first and the last date (YYYY-MM-DD)."))
        return _back(scope, "fill")
    try:
        if value == PATTERN:
            count, _changes = services.roster_clear(
                actor=request.user,
                employees=employees,
                start=start,
                end=end,
                weekdays=weekdays or None,
            )
        else:
            shift = _cell(employees[0], start, value).shift
            count, _changes = services.roster_set(
                actor=request.user,
                employees=employees,
                start=start,
                end=end,
                shift=shift,
                weekdays=weekdays or None,
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(count)d day(s) set to %(value)s.") % {"count": count, "value": _label(value)},
        )
    return _back(scope)


@login_required
@require_POST
def roster_copy(request: HttpRequest) -> HttpResponse:
    """The month shown takes last month's roster of the people shown, weekday by weekday."""
    _require_changer(request)
    scope = _scope(request.POST)
    employees = scope.people()[: selectors.MAX_GRID_EMPLOYEES]
    if not employees:
        messages.error(request, _("Nobody is shown: choose a group or a department."))
        return _back(scope)
    try:
        result, _changes = services.roster_copy_previous_month(
            actor=request.user, employees=employees, month=scope.start
        )
    except DomainError as exc:
        messages.error(request, _details_message(exc))
    else:
        messages.success(
            request,
            _("Last month's roster copied: %(count)d day(s) changed.")
            % {"count": len(result.changed)},
        )
    return _back(scope)


@login_required
@require_safe
def roster_export(request: HttpRequest) -> HttpResponse:
    _require_viewer(request)
    scope = _scope(request.GET)
    people = scope.people()[: selectors.MAX_GRID_EMPLOYEES]
    try:
        rows = selectors.roster_grid(people, scope.start, scope.end)
    except ValueError:
        rows = []
    days = [scope.start + timedelta(days=i) for i in range((scope.end - scope.start).days + 1)]
    response = HttpResponse(roster_csv.export_csv(rows, days), content_type="text/csv")
    chosen = scope.group or scope.department
    name = f"roster-{chosen.code if chosen else 'none'}-{scope.month}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@dataclass
class ChangeLine:
    employee: Employee
    day: date
    before: str
    after: str


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def roster_import(request: HttpRequest) -> HttpResponse:
    """Upload → dry run (the changes and every line's error) → apply: all or nothing."""
    can_change = _require_viewer(request)
    scope = _scope(request.POST if request.method == "POST" else request.GET)
    context: dict[str, Any] = {"scope": scope, "can_change": can_change, "errors": []}
    status = 200
    if request.method == "POST":
        _require_changer(request)
        apply = bool(request.POST.get("apply"))
        try:
            if apply:
                sha = request.POST.get("sha256", "")[:64]
                data = uploads.load(request.user.pk, sha)
                name = request.POST.get("filename", "")[:200]
                if data is None:
                    raise DomainError(
                        "import_expired", _("The checked file is gone; upload it again.")
                    )
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    raise DomainError("no_file", _("Choose a file."))
                data, name = uploads.read_import(upload)
            parsed = roster_csv.parse(data, filename=name)
            if parsed.errors:
                context["errors"] = parsed.errors
                status = 422
            else:
                try:
                    result, _changes = services.roster_apply(
                        actor=request.user,
                        cells=parsed.cells,
                        dry_run=not apply,
                        source=f"import {uploads.clean_name(name)}",
                    )
                except DomainError as exc:
                    if exc.code != services.ROSTER_INVALID:
                        raise
                    context["errors"] = roster_csv.line_errors(parsed, exc.details or [])
                    status = 422
                else:
                    changes = [
                        ChangeLine(parsed.employees[c.employee_id], c.day, c.before, c.after)
                        for c in result.changed
                    ]
                    if apply:
                        uploads.discard(request.user.pk, uploads.sha256_of(data))
                        messages.success(
                            request,
                            _("The roster file is applied: %(count)d day(s) changed.")
                            % {"count": len(changes)},
                        )
                        return redirect(scope.url())
                    context.update(
                        checked=True,
                        changes=changes[:500],
                        more_changes=max(0, len(changes) - 500),
                        change_count=len(changes),
                        unchanged=result.unchanged,
                        sha256=uploads.stash(request.user.pk, data),
                        filename=name,
                    )
        except DomainError as exc:
            context["errors"] = [roster_csv.LineError(0, exc.message)]
            status = 422
    context["rest"] = REST
    return render(request, "setup/roster_import.html", context, status=status)
