"""/settings/holidays/<year>/: the year's 节假日 and 调休 make-up workdays on a calendar.

HR adds, changes or removes a day (``scheduling.services.calendar_day_set``) and copies the
chinese-calendar data for the year (``calendar_seed``, the code of ``ztk seed-calendar``);
auditors read. The services recompute the affected days after commit.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ztk.core.errors import DomainError
from ztk.core.parse import parse_day
from ztk.core.uploads import clean_name
from ztk.org import rules
from ztk.scheduling import selectors, services
from ztk.scheduling.calendar_data import NAME_MAX
from ztk.scheduling.models import WorkCalendarDay

REMOVE = "remove"
BY_LAW, YES, NO = "", "yes", "no"  # the statutory choice: the law's reading of the date or HR's
CSV_MAX_BYTES = 64 * 1024  # a year's arrangement is a few dozen lines


def _check_year(year: int) -> int:
    if not services.YEAR_MIN <= year <= services.YEAR_MAX:
        raise Http404
    return year


def _can_view(request: HttpRequest) -> bool:
    """True when the user may change, False when only read; 403 for everyone else."""
    if not rules.can_view_settings(request.user):
        raise PermissionDenied
    return rules.can_change_settings(request.user)


@login_required
@require_GET
def current(request: HttpRequest) -> HttpResponse:
    _can_view(request)
    return redirect("settings:holidays", year=timezone.localdate().year)


def _page(
    request: HttpRequest,
    year: int,
    *,
    form: dict[str, str] | None = None,
    errors: list[str] | None = None,
    file_errors: list[str] | None = None,
) -> HttpResponse:
    can_change = _can_view(request)
    view = selectors.holiday_year(year)
    if form is None:
        picked = parse_day(request.GET.get("day", ""))
        entry = next((d for d in view.days if d.date == picked), None)
        form = {
            "date": picked.isoformat() if picked and picked.year == year else "",
            "kind": entry.kind if entry else WorkCalendarDay.Kind.HOLIDAY,
            "name": entry.name if entry else "",
            # A new day: the law's reading of its date (BY_LAW), as the import takes it.
            "statutory": (YES if entry.statutory else NO) if entry else BY_LAW,
        }
    context: dict[str, Any] = {
        "year": year,
        "view": view,
        "months": view.months(),
        "can_change": can_change,
        "form": form,
        "errors": errors or [],
        "file_errors": file_errors or [],
        "file_max_kb": CSV_MAX_BYTES // 1024,
        "kinds": WorkCalendarDay.Kind.choices,
        "statutory_choices": [
            (BY_LAW, _("By the law's festival days (automatic)")),
            (YES, _("Yes: a festival day of the law, overtime 3×")),
            (NO, _("No: a day off moved into the holiday (调休) or given in its place, 2×")),
        ],
        "name_max": NAME_MAX,
        "years": [year - 1, year + 1],
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
    }
    return render(
        request, "setup/holidays.html", context, status=422 if errors or file_errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def year_page(request: HttpRequest, year: int) -> HttpResponse:
    """GET: the calendar. POST: add or change one day (kind holiday/workday, statutory or
    not), or remove it."""
    _check_year(year)
    if request.method == "GET":
        return _page(request, year)
    if not _can_view(request):
        raise PermissionDenied
    form = {
        "date": request.POST.get("date", "").strip()[:40],
        "kind": request.POST.get("kind", "").strip()[:20],
        "name": request.POST.get("name", "")[: NAME_MAX * 2],
        "statutory": request.POST.get("statutory", BY_LAW).strip()[:5],
    }
    removing = request.POST.get("action") == REMOVE
    day = parse_day(form["date"])
    if day is None:
        return _page(
            request,
            year,
            form=form,
            errors=[_("Date: “%(value)s” is not a date (YYYY-MM-DD).") % {"value": form["date"]}],
        )
    if day.year != year:
        return _page(
            request,
            year,
            form=form,
            errors=[_("%(day)s is not in %(year)d.") % {"day": day, "year": year}],
        )
    if not removing and form["kind"] not in WorkCalendarDay.Kind.values:
        return _page(request, year, form=form, errors=[_("Choose a holiday or a make-up workday.")])
    if form["statutory"] not in (BY_LAW, YES, NO):
        form["statutory"] = BY_LAW
    if form["statutory"] == YES and form["kind"] == WorkCalendarDay.Kind.WORKDAY:
        return _page(request, year, form=form, errors=[_("A make-up workday is never statutory.")])
    try:
        entry, _changes = services.calendar_day_set(
            actor=request.user,
            day=day,
            kind=None if removing else form["kind"],
            name="" if removing else form["name"].strip(),
            statutory=None if form["statutory"] == BY_LAW else form["statutory"] == YES,
        )
    except DomainError as exc:
        return _page(request, year, form=form, errors=_messages(exc))
    if removing:
        messages.success(request, _("%(day)s follows the weekly pattern again.") % {"day": day})
    else:
        kind = entry.get_kind_display()
        if entry.statutory:
            kind = _("statutory holiday (overtime 3×)")
        elif entry.kind == WorkCalendarDay.Kind.HOLIDAY:
            kind = _("holiday, not statutory (overtime 2×)")
        messages.success(
            request,
            _("%(day)s is now: %(kind)s %(name)s") % {"day": day, "kind": kind, "name": entry.name},
        )
    return redirect(reverse("settings:holidays", args=[year]) + f"#day-{day.isoformat()}")


def _messages(exc: DomainError) -> list[str]:
    """The refusal, with a field's detail when the service named one."""
    details = exc.details if isinstance(exc.details, dict) else {}
    lines = [exc.message]
    for field, problems in details.items():
        if isinstance(problems, list):
            lines += [f"{field}: {p}" for p in problems]
    return lines


@login_required
@require_POST
def import_package(request: HttpRequest, year: int) -> HttpResponse:
    """Copy chinese-calendar's arrangement for the year (hand-entered days are kept)."""
    _check_year(year)
    if not _can_view(request):
        raise PermissionDenied
    try:
        report, _changes = services.calendar_seed(actor=request.user, from_year=year, to_year=year)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("settings:holidays", year=year)
    seed = report[0]
    if seed.skipped:
        messages.warning(
            request,
            _(
                "%(year)d's arrangement was imported from a file or the API; the "
                "chinese-calendar data did not replace it."
            )
            % {"year": year},
        )
    elif seed.status == "fallback":
        messages.error(
            request,
            _(
                "The installed chinese-calendar has no data for %(year)d: enter the holidays "
                "and make-up workdays by hand."
            )
            % {"year": year},
        )
    else:
        messages.success(
            request,
            _(
                "Imported from chinese-calendar: %(created)d added, %(updated)d changed, "
                "%(deleted)d removed, %(kept)d entered by hand kept."
            )
            % {
                "created": seed.created,
                "updated": seed.updated,
                "deleted": seed.deleted,
                "kept": seed.kept_manual,
            },
        )
    return redirect("settings:holidays", year=year)


@login_required
@require_POST
def confirm(request: HttpRequest, year: int) -> HttpResponse:
    """The days entered for a year without official data are its whole arrangement."""
    _check_year(year)
    if not _can_view(request):
        raise PermissionDenied
    try:
        services.calendar_year_confirm(actor=request.user, year=year)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(year)d's holidays and make-up workdays are confirmed as complete.")
            % {"year": year},
        )
    return redirect("settings:holidays", year=year)


@login_required
@require_POST
def import_file(request: HttpRequest, year: int) -> HttpResponse:
    """A CSV file ``date,kind,name`` is the year's official arrangement (the code of
    ``ztk import-calendar``): all or nothing, every bad line listed."""
    _check_year(year)
    if not _can_view(request):
        raise PermissionDenied
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, year, file_errors=[_("Choose a CSV file.")])
    if upload.size is not None and upload.size > CSV_MAX_BYTES:
        return _page(
            request,
            year,
            file_errors=[_("The file is larger than %(kb)d KB.") % {"kb": CSV_MAX_BYTES // 1024}],
        )
    try:
        result, _changes = services.calendar_import(
            actor=request.user,
            year=year,
            content=upload.read(),
            source_name=clean_name(upload.name, "calendar.csv"),
        )
    except DomainError as exc:
        lines = [exc.message]
        for error in exc.details or []:
            where = _("line %(row)s") % {"row": error["row"]}
            column = f" [{error['column']}]" if error.get("column") else ""
            lines.append(f"{where}{column}: {error['message']}")
        return _page(request, year, file_errors=lines)
    messages.success(
        request,
        _(
            "Imported %(rows)d days: %(created)d added, %(updated)d changed, %(deleted)d "
            "removed, %(replaced)d entered by hand replaced."
        )
        % {
            "rows": result.rows,
            "created": len(result.created),
            "updated": len(result.updated),
            "deleted": len(result.deleted),
            "replaced": len(result.replaced_manual),
        },
    )
    return redirect("settings:holidays", year=year)
