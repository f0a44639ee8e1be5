"""The HR desk (人事工作台): paper forms (纸质《漏签申报表》) and the bulk import of
historical corrections (批量处理历史数据). HR and system admins only.

Views parse input, check the role, call one service or selector, and render. Plain forms
work without JavaScript; htmx only refreshes the slot list when the employee or the day
changes. The uploaded import file is kept between the preview and the commit in a
short-lived temporary storage keyed by the uploader and the file's SHA-256 (never in the
session, ``ztk.core.uploads.stash``); the dry run and the commit run as background jobs
(``ztk.core.jobs``) whose page shows their progress; the commit validates those bytes
again and writes all rows or none.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST, require_safe

from ztk.attendance.days import day_windows, employee_zone
from ztk.attendance.explain import slot_label
from ztk.core import uploads
from ztk.core.errors import DomainError, NotFoundError
from ztk.core.input_guard import text_checked
from ztk.core.jobs import job_create, job_for, job_progress, progress_poll
from ztk.core.models import Job, JobStatus
from ztk.core.parse import parse_clock, parse_day
from ztk.core.text import text_errors
from ztk.corrections import services
from ztk.corrections.models import CorrectionPolicy
from ztk.hrdesk import bulk_import, manual, paper, tasks
from ztk.org.models import Employee
from ztk.org.selectors import employee_for

PAGE_SIZE = 50
SLOT_KEYS = ("in1", "out1", "in2", "out2", "in3", "out3")


def _require(request: HttpRequest) -> User:
    """The HR user registering paper forms and imports; anyone else is refused."""
    user = request.user
    if not isinstance(user, User) or not paper.can_register(user):
        raise PermissionDenied
    return user


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    _require(request)
    return render(request, "hrdesk/index.html", {})


# --------------------------------------------------------------------------- paper forms


def _find_employee(actor: Any, text: str) -> tuple[Employee | None, list[Employee]]:
    """By exact employee number, else the only match of name / number / pinyin initials."""
    text = text.strip()[:60]
    if not text:
        return None, []
    try:
        return employee_for(actor, text), []
    except NotFoundError:
        pass
    matches = manual.employee_search(text, limit=6)
    by_name = [e for e in matches if e.name == text]
    if len(by_name) == 1:
        return by_name[0], []
    if len(matches) == 1:
        return matches[0], []
    return None, matches


def _find_signer(text: str) -> tuple[Employee | None, str]:
    """A signer in the system (by number or exact name), else just the name as written."""
    text = " ".join(text.split())[:60]
    if not text:
        return None, ""
    by_number = Employee.objects.filter(employee_no=text).first()
    if by_number is not None:
        return by_number, by_number.name
    by_name = list(Employee.objects.filter(name=text, active=True)[:2])
    if len(by_name) == 1:
        return by_name[0], text
    return None, text


def _slot_choices(employee: Employee | None, day: date | None) -> list[dict[str, str]]:
    if employee is not None and day is not None:
        windows = day_windows(employee, day)
        tz = employee_zone(employee)
        return [
            {
                "key": w.key,
                "label": manual.slot_name(w.key, windows),
                "hint": _("expected %(time)s")
                % {"time": w.expected.astimezone(tz).strftime("%H:%M")},
            }
            for w in windows
        ]
    return [{"key": key, "label": slot_label(key, 3), "hint": ""} for key in SLOT_KEYS]


def _categories(employee: Employee | None) -> list[Any]:
    row = services.policy_row_for(employee.attendance_group if employee else None)
    return list(services.categories_for(row if row.pk else CorrectionPolicy()).values())


def _paper_context(posted: dict[str, str], employee: Employee | None, **extra: Any):
    day = parse_day(posted.get("day"))
    return {
        "posted": posted,
        "slots": _slot_choices(employee, day),
        "categories": _categories(employee),
        "max_mb": bulk_import.MAX_BYTES // (1024 * 1024),
        **extra,
    }


PAPER_FIELDS = (
    "form_no",
    "employee",
    "day",
    "slot",
    "time",
    "reason",
    "category",
    "signer",
    "signed_on",
    "override_reason",
)
PAPER_LABELS = {
    "form_no": _lazy("Form number"),
    "employee": _lazy("Employee"),
    "day": _lazy("Date"),
    "slot": _lazy("Slot"),
    "time": _lazy("Time"),
    "reason": _lazy("Reason"),
    "category": _lazy("Category"),
    "signer": _lazy("Signed by"),
    "signed_on": _lazy("Signed on"),
    "override_reason": _lazy("Reason for overriding the limit"),
}
PAPER_MULTILINE = ("reason", "override_reason")


@text_checked
@login_required
def paper_new(request: HttpRequest) -> HttpResponse:
    """Register a paper form: GET the form, POST it (422 with what was typed on refusal)."""
    _require(request)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    if request.method != "POST":
        posted = {name: request.GET.get(name, "")[:500] for name in PAPER_FIELDS}
        employee, _candidates = _find_employee(request.user, posted["employee"])
        context = _paper_context(posted, employee)
        return render(request, "hrdesk/paper_new.html", context)

    posted = {name: request.POST.get(name, "")[:500] for name in PAPER_FIELDS}
    problems = text_errors(posted, labels=PAPER_LABELS, multiline=PAPER_MULTILINE)
    if problems:  # before any look-up: PostgreSQL refuses a NUL even in a search
        context = _paper_context(
            posted,
            None,
            error=" ".join(problems.values()),
            scan_again=bool(request.FILES.get("scan")),
        )
        return render(request, "hrdesk/paper_new.html", context, status=422)
    employee, candidates = _find_employee(request.user, posted["employee"])
    error = ""
    if employee is None:
        error = (
            _("Several employees match “%(q)s”: enter the employee number.")
            % {"q": posted["employee"]}
            if candidates
            else _("No employee matches “%(q)s”.") % {"q": posted["employee"]}
        )
    day = parse_day(posted["day"])
    signed_on = parse_day(posted["signed_on"])
    clock_value = parse_clock(posted["time"])
    slot_key = posted["slot"] if posted["slot"] in SLOT_KEYS else ""
    if not error and day is None:
        error = _("Enter the date the form corrects.")
    if not error and not slot_key:
        error = _("Choose the slot.")
    if not error and clock_value is None:
        error = _("Enter the time (HH:MM).")
    if not error and signed_on is None:
        error = _("Enter the date the form was signed.")
    if (
        not error
        and employee is not None
        and day is not None
        and clock_value is not None
        and signed_on is not None
    ):
        signer, signer_name = _find_signer(posted["signer"])
        override = posted["override_reason"].strip()
        try:
            form = paper.paper_form_register(
                actor=request.user,
                form_no=posted["form_no"],
                employee=employee,
                day=day,
                slot_key=slot_key,
                time=clock_value,
                reason=posted["reason"],
                category=posted["category"],
                signed_by=signer,
                signed_by_name=signer_name,
                signed_on=signed_on,
                scan=request.FILES.get("scan"),
                quota_override_reason=override or None,
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("Paper form %(no)s is registered; %(name)s's day shows the correction.")
                % {"no": form.form_no, "name": form.employee.name},
            )
            return redirect("hrdesk:paper_detail", form.pk)
    context = _paper_context(
        posted,
        employee,
        error=error,
        candidates=candidates,
        scan_again=bool(request.FILES.get("scan")),
    )
    return render(request, "hrdesk/paper_new.html", context, status=422)


@login_required
@require_safe
def paper_slots(request: HttpRequest) -> HttpResponse:
    """htmx: the slot options of the employee's plan on the day."""
    _require(request)
    employee, _candidates = _find_employee(request.user, request.GET.get("employee", ""))
    day = parse_day(request.GET.get("day"))
    return render(
        request,
        "hrdesk/slots.html",
        {
            "slots": _slot_choices(employee, day),
            "selected": request.GET.get("slot", ""),
            "known": employee is not None and day is not None,
        },
    )


@login_required
@require_safe
def paper_list(request: HttpRequest) -> HttpResponse:
    """The archive: search by form number, employee, the corrected day's range and signer."""
    _require(request)
    params = request.GET
    filters = {
        "form_no": params.get("form_no", "")[:40],
        "employee": params.get("employee", "")[:60],
        "start": params.get("start", "")[:10],
        "end": params.get("end", "")[:10],
        "signer": params.get("signer", "")[:60],
    }
    forms = paper.paper_forms_search(
        actor=request.user,
        form_no=filters["form_no"],
        employee=filters["employee"],
        start=parse_day(filters["start"]),
        end=parse_day(filters["end"]),
        signer=filters["signer"],
    )
    page = Paginator(forms, PAGE_SIZE).get_page(params.get("page"))
    query = urlencode({k: v for k, v in filters.items() if v})
    rows = [{"form": f, "slot": slot_label(f.slot_key)} for f in page.object_list]
    return render(
        request,
        "hrdesk/paper_list.html",
        {"filters": filters, "page": page, "rows": rows, "query": query},
    )


@login_required
@require_safe
def paper_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    try:
        form = paper.paper_form_for(request.user, pk)
    except NotFoundError as missing:
        raise Http404 from missing
    tz = employee_zone(form.employee)
    return render(
        request,
        "hrdesk/paper_detail.html",
        {
            "form": form,
            "slot": slot_label(form.slot_key),
            "local_time": form.time.astimezone(tz),
            "is_image": form.scan_type.startswith("image/") and form.scan_type != "image/heic",
            "day_url": reverse(
                "attendance:employee_day", args=[form.employee.employee_no, form.day.isoformat()]
            ),
        },
    )


@login_required
@require_safe
def paper_scan(request: HttpRequest, pk: int) -> FileResponse:
    """The scan: HR, system admins and the employee themselves; anyone else gets 404."""
    try:
        form = paper.paper_form_for(request.user, pk)
    except NotFoundError as missing:
        raise Http404 from missing
    return uploads.file_response(
        form.scan,
        form.scan_type,
        form.scan_name or form.form_no,
        download=request.GET.get("download") == "1",
    )


# --------------------------------------------------------------------------- bulk import


def _import_context(**extra: Any) -> dict[str, Any]:
    return {
        "columns": bulk_import.HELP_ROWS,
        "max_rows": bulk_import.MAX_ROWS,
        "max_mb": bulk_import.MAX_BYTES // (1024 * 1024),
        **extra,
    }


@login_required
@require_safe
def import_page(request: HttpRequest) -> HttpResponse:
    _require(request)
    return render(request, "hrdesk/import.html", _import_context())


@login_required
@require_safe
def import_template_csv(request: HttpRequest) -> HttpResponse:
    _require(request)
    response = HttpResponse(bulk_import.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        "attachment; filename=\"corrections-import.csv\"; filename*=UTF-8''"
        + quote("补卡导入模板.csv")
    )
    return response


@login_required
@require_safe
def import_template_xlsx(request: HttpRequest) -> HttpResponse:
    _require(request)
    response = HttpResponse(
        bulk_import.template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        "attachment; filename=\"corrections-import.xlsx\"; filename*=UTF-8''"
        + quote("补卡导入模板.xlsx")
    )
    return response


def _start(request: HttpRequest, kind: str, sha256: str, filename: str) -> HttpResponse:
    """Create the job and hand it to the worker; the page then follows its progress.

    The job row is committed before the task is queued (views run in autocommit)."""
    job = job_create(owner=request.user, kind=kind, params={"sha256": sha256, "filename": filename})
    tasks.import_job(str(job.pk))
    return redirect("hrdesk:import_job", job.pk)


@login_required
@require_POST
def import_preview(request: HttpRequest) -> HttpResponse:
    """Upload → a background dry run: each row ok, already imported or refused with why.

    The request only checks the size and keeps the file; reading and checking it (seconds
    to a minute for 20,000 rows) happens in the worker while the page shows progress."""
    user = _require(request)
    upload = request.FILES.get("file")
    if upload is None:
        context = _import_context(error=_("Choose a CSV or XLSX file."))
        return render(request, "hrdesk/import.html", context, status=422)
    size = upload.size or 0
    if size > bulk_import.MAX_BYTES:
        context = _import_context(error=str(bulk_import.MESSAGES[bulk_import.FILE_TOO_LARGE]))
        return render(request, "hrdesk/import.html", context, status=422)
    if size == 0:
        context = _import_context(error=str(bulk_import.MESSAGES[bulk_import.EMPTY_FILE]))
        return render(request, "hrdesk/import.html", context, status=422)
    data = upload.read()
    filename = uploads.clean_name(upload.name, default="import")
    sha256 = uploads.stash(user.pk, data)
    return _start(request, bulk_import.JOB_PREVIEW, sha256, filename)


@login_required
@require_POST
def import_commit(request: HttpRequest) -> HttpResponse:
    """Commit the previewed file in the background: checked again, then all rows or none."""
    user = _require(request)
    sha256 = request.POST.get("sha256", "")
    filename = uploads.clean_name(request.POST.get("filename", ""), default="import")
    if uploads.load(user.pk, sha256) is None:
        messages.error(request, _("The uploaded file has expired; upload it again."))
        return redirect("hrdesk:import")
    return _start(request, bulk_import.JOB_COMMIT, sha256, filename)


def _job(request: HttpRequest, job_id: str) -> Job:
    _require(request)
    try:
        job = job_for(request.user, job_id)
    except NotFoundError as missing:
        raise Http404 from missing
    if job.kind not in (bulk_import.JOB_PREVIEW, bulk_import.JOB_COMMIT):
        raise Http404
    return job


@login_required
@require_safe
def import_job(request: HttpRequest, job_id: str) -> HttpResponse:
    """The job's page: its progress while it runs, then the preview or the outcome."""
    job = _job(request, job_id)
    if not job.finished:
        return render(
            request,
            "hrdesk/import_job.html",
            {
                "job": job,
                "progress": job_progress(job),
                "status_url": reverse("hrdesk:import_job_status", args=[job.pk]),
                **_job_labels(job),
            },
        )
    if job.status == JobStatus.FAILED:
        error = (job.error or {}).get("message", "")
        details = (job.error or {}).get("details")
        if job.kind == bulk_import.JOB_COMMIT and isinstance(details, list):
            return render(
                request,
                "hrdesk/import_done.html",
                {"job": job, "error": error, "refused_rows": details},
                status=200,
            )
        return render(request, "hrdesk/import.html", _import_context(error=error))
    if job.kind == bulk_import.JOB_PREVIEW:
        preview: dict[str, Any] = job.result or {}
        return render(
            request,
            "hrdesk/import_preview.html",
            {
                "preview": preview,
                "counts": preview["counts"],
                "refused_rows": preview["refused_rows"],
                "rows": preview["rows"],
                "truncated": preview["truncated"],
                "shown": bulk_import.SHOWN_ROWS,
                "sha256": preview["sha256"] if preview["can_commit"] else "",
            },
        )
    return render(request, "hrdesk/import_done.html", {"job": job, **(job.result or {})})


def _job_labels(job: Job) -> dict[str, Any]:
    return {
        "title": _("Checking the file")
        if job.kind == bulk_import.JOB_PREVIEW
        else _("Importing the file"),
        "phases": {
            "queued": _("Waiting for the worker…"),
            bulk_import.READING: _("Reading the file…"),
            bulk_import.CHECKING: _("Checking rows…"),
            bulk_import.WRITING: _("Writing punches and recomputing days…"),
        },
    }


@login_required
@require_safe
def import_job_status(request: HttpRequest, job_id: str) -> HttpResponse:
    """The progress bar (htmx polls it every second); when the job has finished, the page
    reloads to show the outcome."""
    job = _job(request, job_id)
    status_url = reverse("hrdesk:import_job_status", args=[job.pk])
    return progress_poll(request, job, status_url=status_url, phases=_job_labels(job)["phases"])
