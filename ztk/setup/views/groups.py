"""/settings/groups/: attendance groups (考勤组) — the list, a group's settings (zone, day
boundary, punch rules, terminals; its geofences shown), and its members (add by
department, by person, by an import of employee numbers; remove or move elsewhere).

HR and system admins change them; auditors read (a POST is 403). Thin: parse the form,
call one service (``ztk.attendance.group_services`` or ``ztk.devices.services``), show its
refusal next to the field it names with what was typed kept (HTTP 422).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ztk.attendance import group_services as services
from ztk.core import spreadsheets, uploads
from ztk.core.errors import DomainError
from ztk.core.parse import parse_ids
from ztk.devices.services import group_terminals_set
from ztk.org import rules, zones
from ztk.org.group_services import IMPORT_MAX_ROWS, ImportPlan, department_member_ids
from ztk.org.models import AttendanceGroup, Department, Employee
from ztk.org.selectors import people_to_pick
from ztk.punches.models import OutsideGeofenceRule
from ztk.punches.settings_services import punch_settings_of

from .. import selectors

FIELD_MAX = 200
OTHER_ZONE = "other"
EDIT_FIELDS = ("name", "time_zone", "day_boundary_hour", "active", "web_punch_enabled")


def _viewer(request: HttpRequest) -> bool:
    """True when the user may change the groups, False when only read; 403 for others."""
    if not rules.can_view_settings(request.user):
        raise PermissionDenied
    return bool(rules.can_change_settings(request.user))


def _changer(request: HttpRequest) -> None:
    if not rules.can_change_settings(request.user):
        raise PermissionDenied


def _group(code: str) -> AttendanceGroup:
    group = selectors.group_by_code(code)
    if group is None:
        raise Http404
    return group


def _geofence_page() -> str | None:
    """The geofence settings page, once it exists."""
    try:
        return reverse("settings:geofences")
    except NoReverseMatch:
        return None


# --- the list ---------------------------------------------------------------------------


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    editable = _viewer(request)
    return render(
        request,
        "setup/groups.html",
        {"rows": selectors.group_rows(), "editable": editable},
    )


# --- create and edit --------------------------------------------------------------------


def _form_of(group: AttendanceGroup | None) -> dict[str, Any]:
    if group is None:
        return {
            "code": "",
            "name": "",
            "time_zone": zones.default_zone_name(),
            "day_boundary_hour": "0",
            "active": True,
            "web_punch_enabled": True,
            "outside_rule": OutsideGeofenceRule.FIELD,
            "quick_punch": False,
        }
    punch = punch_settings_of(group)
    return {
        "code": group.code,
        "name": group.name,
        "time_zone": group.time_zone,
        "day_boundary_hour": str(group.day_boundary_hour),
        "active": group.active,
        "web_punch_enabled": punch.web_punch_enabled,
        "outside_rule": punch.outside_rule,
        "quick_punch": punch.quick_punch,
    }


def _form_posted(request: HttpRequest, group: AttendanceGroup | None) -> dict[str, Any]:
    post = request.POST
    zone = post.get("time_zone", "")[:FIELD_MAX].strip()
    if zone == OTHER_ZONE or not zone:
        zone = post.get("time_zone_other", "")[:FIELD_MAX].strip()
    return {
        "code": group.code if group else post.get("code", "")[:FIELD_MAX].strip(),
        "name": post.get("name", "")[:FIELD_MAX],
        "time_zone": zone,
        "day_boundary_hour": post.get("day_boundary_hour", "")[:FIELD_MAX].strip(),
        "active": bool(post.get("active")),
        "web_punch_enabled": bool(post.get("web_punch_enabled")),
        "outside_rule": post.get("outside_rule", "")[:FIELD_MAX],
        "quick_punch": bool(post.get("quick_punch")),
    }


def _field_of(exc: DomainError) -> str:
    details = exc.details if isinstance(exc.details, dict) else {}
    return str(details.get("field") or "top")


def _edit_context(group: AttendanceGroup | None, form: dict[str, Any], **extra: Any) -> dict:
    common = form["time_zone"] in zones.COMMON_ZONES
    context = {
        "group": group,
        "form": form,
        "zones": zones.COMMON_ZONES,
        "zone_common": common,
        "rules": OutsideGeofenceRule.choices,
        "errors": {},
        "editable": True,
    }
    if group is not None:
        context |= {
            "terminals": selectors.approved_terminals(),
            "geofences": selectors.geofences_of(group),
            "geofence_page": _geofence_page(),
            "member_count": Employee.objects.filter(attendance_group=group, active=True).count(),
        }
    return context | extra


def _save(request: HttpRequest, group: AttendanceGroup | None) -> HttpResponse:
    form = _form_posted(request, group)
    try:
        saved = services.group_save(
            actor=request.user,
            code=form["code"],
            name=form["name"],
            time_zone=form["time_zone"],
            day_boundary_hour=form["day_boundary_hour"],
            active=form["active"],
            web_punch_enabled=form["web_punch_enabled"],
            outside_rule=form["outside_rule"],
            quick_punch=form["quick_punch"],
            create_only=group is None,
        )
    except DomainError as exc:
        context = _edit_context(group, form, errors={_field_of(exc): exc.message})
        return render(request, "setup/group_edit.html", context, status=422)
    if saved.created:
        messages.success(
            request,
            _("Group %(name)s created. Add its members and terminals below.")
            % {"name": saved.group.name},
        )
    elif saved.changed:
        messages.success(request, _("Group %(name)s saved.") % {"name": saved.group.name})
    else:
        messages.info(request, _("Nothing changed."))
    return redirect("settings:group_edit", code=saved.group.code)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    _changer(request)
    if request.method == "POST":
        return _save(request, None)
    return render(request, "setup/group_edit.html", _edit_context(None, _form_of(None)))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, code: str) -> HttpResponse:
    editable = _viewer(request)
    group = _group(code)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        return _save(request, group)
    context = _edit_context(group, _form_of(group), editable=editable)
    return render(request, "setup/group_edit.html", context)


@login_required
@require_POST
def terminals(request: HttpRequest, code: str) -> HttpResponse:
    _changer(request)
    group = _group(code)
    serials = [s[:FIELD_MAX] for s in request.POST.getlist("terminals")[:500]]
    try:
        changed = group_terminals_set(actor=request.user, group=group, serials=serials)
    except DomainError as exc:
        context = _edit_context(group, _form_of(group), errors={"terminals": exc.message})
        return render(request, "setup/group_edit.html", context, status=422)
    if changed:
        messages.success(
            request,
            _("Terminals of %(name)s saved (%(count)d changed).")
            % {"name": group.name, "count": len(changed)},
        )
    else:
        messages.info(request, _("Nothing changed."))
    return redirect(reverse("settings:group_edit", args=[group.code]) + "#terminals")


# --- members ----------------------------------------------------------------------------


def _members_context(
    request: HttpRequest, group: AttendanceGroup, editable: bool, **extra: Any
) -> dict[str, Any]:
    search = request.GET.get("q", "")[:60].strip()
    return {
        "group": group,
        "editable": editable,
        "page": selectors.members_page(group, search=search, page=request.GET.get("page", 1)),
        "q": search,
        "departments": selectors.departments() if editable else [],
        "other_groups": selectors.other_groups(group) if editable else [],
        "errors": {},
        "person": "",
        **extra,
    }


def _moved_message(group: AttendanceGroup | None, result: Any) -> str:
    moved, unchanged = len(result.moved), result.unchanged
    if group is None:
        text = _("%(count)d people moved to no group.") % {"count": moved}
    else:
        text = _("%(count)d people moved into %(name)s.") % {"count": moved, "name": group.name}
    if unchanged:
        text += " " + _("%(count)d were there already.") % {"count": unchanged}
    return text


@login_required
@require_safe
def members(request: HttpRequest, code: str) -> HttpResponse:
    editable = _viewer(request)
    group = _group(code)
    return render(request, "setup/group_members.html", _members_context(request, group, editable))


def _person(typed: str) -> tuple[Employee | None, list[Employee]]:
    """The one person a picker's text names (an exact number first), or the candidates."""
    typed = typed.strip()[:60]
    people = people_to_pick(typed)
    exact = [e for e in people if e.employee_no == typed]
    if exact:
        return exact[0], []
    named = [e for e in people if e.name == typed]
    if len(named) == 1:
        return named[0], []
    if len(people) == 1:
        return people[0], []
    return None, people


@login_required
@require_POST
def members_add(request: HttpRequest, code: str) -> HttpResponse:
    _changer(request)
    group = _group(code)
    how = request.POST.get("how", "")
    errors: dict[str, str] = {}
    typed = request.POST.get("person", "")[:60]
    candidates: list[Employee] = []
    ids: list[int] = []
    if how == "department":
        department = Department.objects.filter(
            code=request.POST.get("department", "")[:32], active=True
        ).first()
        if department is None:
            errors["department"] = _("Choose a department.")
        else:
            ids = department_member_ids(department)
            if not ids:
                errors["department"] = _("%(name)s has no active employees.") % {
                    "name": department.name
                }
    elif how == "person":
        person, candidates = _person(typed)
        if person is not None:
            ids = [person.pk]
        elif candidates:
            errors["person"] = _("Several people match “%(typed)s”: choose one from the list.") % {
                "typed": typed.strip()
            }
        else:
            errors["person"] = _("Nobody active matches “%(typed)s”.") % {"typed": typed.strip()}
    else:
        errors["top"] = _("Choose how to add people.")
    if not errors:
        try:
            result = services.group_members_move(
                actor=request.user, employee_ids=ids, to_group=group, via=how
            )
        except DomainError as exc:
            errors[how] = exc.message
        else:
            messages.success(request, _moved_message(group, result))
            return redirect("settings:group_members", code=group.code)
    context = _members_context(
        request, group, True, errors=errors, person=typed, candidates=candidates
    )
    return render(request, "setup/group_members.html", context, status=422)


@login_required
@require_POST
def members_remove(request: HttpRequest, code: str) -> HttpResponse:
    _changer(request)
    group = _group(code)
    ids = parse_ids(request.POST.getlist("employees"), limit=5000)
    members = list(
        Employee.objects.filter(pk__in=ids, attendance_group=group).values_list("pk", flat=True)
    )
    target_code = request.POST.get("to", "")[:32]
    target = selectors.group_by_code(target_code) if target_code else None
    errors: dict[str, str] = {}
    if not members:
        errors["remove"] = _("Tick the people to remove first.")
    elif target_code and (target is None or target.pk == group.pk):
        errors["remove"] = _("Choose another group, or “no group”.")
    else:
        try:
            result = services.group_members_move(
                actor=request.user, employee_ids=members, to_group=target, via="remove"
            )
        except DomainError as exc:
            errors["remove"] = exc.message
        else:
            messages.success(request, _moved_message(target, result))
            return redirect("settings:group_members", code=group.code)
    context = _members_context(request, group, True, errors=errors)
    return render(request, "setup/group_members.html", context, status=422)


def _rows_from_upload(request: HttpRequest) -> list[tuple[int, list[Any]]]:
    """The rows of the uploaded file, or of the pasted numbers (one per line)."""
    upload = request.FILES.get("file")
    if upload is not None:
        data, name = uploads.read_import(upload)
        return [
            (number, list(cells))
            for number, cells in spreadsheets.read_table(
                data, max_rows=IMPORT_MAX_ROWS, filename=name
            )
        ]
    text = request.POST.get("numbers", "")[: IMPORT_MAX_ROWS * 30]
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        cell = line.split(",")[0].strip()
        if cell:
            rows.append((number, [cell]))
    if len(rows) > IMPORT_MAX_ROWS:
        raise DomainError(
            spreadsheets.TOO_MANY_ROWS,
            _("At most %(max)d lines.") % {"max": IMPORT_MAX_ROWS},
        )
    return rows


def _rows_from_plan(request: HttpRequest) -> list[tuple[int, list[Any]]]:
    """The checked lines the dry run handed back (``line:number`` per line)."""
    rows = []
    for entry in request.POST.get("checked", "")[: IMPORT_MAX_ROWS * 40].splitlines():
        line, _sep, value = entry.partition(":")
        if line.strip().isdigit() and len(line.strip()) < 8:
            rows.append((int(line), [value.strip()]))
    return rows


@login_required
@require_POST
def members_import(request: HttpRequest, code: str) -> HttpResponse:
    _changer(request)
    group = _group(code)
    apply = request.POST.get("apply") == "1"
    plan: ImportPlan | None = None
    errors: dict[str, str] = {}
    rows: list[tuple[int, list[Any]]] = []
    try:
        rows = _rows_from_plan(request) if apply else _rows_from_upload(request)
        plan = services.group_members_import(
            actor=request.user, group=group, rows=rows, apply=apply
        )
    except DomainError as exc:
        errors["import"] = exc.message
        if apply:  # something changed since the dry run: show it again
            try:
                plan = services.group_members_import(
                    actor=request.user, group=group, rows=rows, apply=False
                )
            except DomainError:
                plan = None
    if plan is not None and plan.applied is not None:
        messages.success(request, _moved_message(group, plan.applied))
        return redirect("settings:group_members", code=group.code)
    context = _members_context(request, group, True, errors=errors, plan=plan)
    return render(request, "setup/group_members.html", context, status=422 if errors else 200)


@login_required
@require_safe
def people(request: HttpRequest) -> HttpResponse:
    """htmx: the people a picker's text matches, as ``<option>``s of its datalist."""
    _changer(request)
    term = request.GET.get("person", "") or request.GET.get("q", "")
    response = render(request, "corrections/_people.html", {"people": people_to_pick(term[:60])})
    response["Vary"] = "HX-Request"
    return response
