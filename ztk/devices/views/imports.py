"""HR's page for punch files: a terminal's USB export (attlog.dat) or a CSV/XLSX punch list.

For offices whose terminals are not on the network. Upload → a background dry run that
shows what each line would become (new, duplicate, unknown PIN, refused with its reason,
the terminal it is attributed to) → commit (background, recomputes the days) → result.
The file waits between the two in the uploader's temporary storage
(``ztk.core.uploads.stash``); the work is `ztk.devices.imports.file_import`, the same
service the ``ztk import-attlog`` and ``ztk import-punches`` commands call.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from ztk.core import uploads
from ztk.core.errors import DomainError, NotFoundError
from ztk.core.jobs import job_create, job_for, job_progress, progress_poll
from ztk.core.models import Job, JobStatus

from .. import imports, selectors, services, tasks
from ..ingest import valid_serial
from ..models import DeviceStatus

FORM = "devices/import.html"


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(services.PERMISSION):
        raise PermissionDenied


def _user_id(request: HttpRequest) -> int:
    """The signed-in user's id (every view here is behind login_required)."""
    user_id = request.user.pk
    if user_id is None:
        raise PermissionDenied
    return int(user_id)


def _terminals() -> list[Any]:
    return [d for d in selectors.device_list() if d.status != DeviceStatus.DISABLED]


def _form(request: HttpRequest, *, error: str = "", serial: str = "", status: int = 200):
    return render(
        request,
        FORM,
        {
            "terminals": _terminals(),
            "serial": serial,
            "error": error,
            "columns": imports.COLUMNS,
            "max_mb": imports.MAX_BYTES // (1024 * 1024),
            "max_rows": imports.MAX_ROWS,
        },
        status=status,
    )


@login_required
@require_safe
def page(request: HttpRequest) -> HttpResponse:
    _require(request)
    serial = request.GET.get("serial", "")
    return _form(request, serial=serial if valid_serial(serial) else "")


def _serial(request: HttpRequest) -> str:
    serial = request.POST.get("serial", "").strip()
    return serial if valid_serial(serial) else ""


def _start(request: HttpRequest, kind: str, sha256: str, filename: str, serial: str):
    """Create the job, hand it to the worker (views run in autocommit), follow it."""
    job = job_create(
        owner=request.user,
        kind=kind,
        params={"sha256": sha256, "filename": filename, "serial": serial},
    )
    tasks.import_job(str(job.pk))
    return redirect("devices:import_job", job.pk)


@login_required
@require_POST
def check(request: HttpRequest) -> HttpResponse:
    """Upload → the dry run in the background; the request only takes and keeps the file."""
    _require(request)
    serial = _serial(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _form(request, error=_("Choose a file."), serial=serial, status=422)
    try:
        data, filename = uploads.read_import(upload, max_bytes=imports.MAX_BYTES)
        if imports.detect_format(data) == imports.ATTLOG and not serial:
            raise DomainError("device_required", imports.FORMAT_MESSAGES["device_required"])
    except DomainError as exc:
        return _form(request, error=str(exc.message), serial=serial, status=422)
    sha256 = uploads.stash(_user_id(request), data)
    return _start(request, imports.JOB_PREVIEW, sha256, filename, serial)


@login_required
@require_POST
def commit(request: HttpRequest) -> HttpResponse:
    """Import the checked file (the same bytes, by their SHA-256) in the background."""
    _require(request)
    sha256 = request.POST.get("sha256", "")
    filename = uploads.clean_name(request.POST.get("filename", ""), default="import")
    if uploads.load(_user_id(request), sha256) is None:
        messages.error(request, _("The uploaded file has expired; upload it again."))
        return redirect("devices:import")
    return _start(request, imports.JOB_COMMIT, sha256, filename, _serial(request))


def _job(request: HttpRequest, job_id: str) -> Job:
    _require(request)
    try:
        job = job_for(request.user, job_id)
    except NotFoundError as missing:
        raise Http404 from missing
    if job.kind not in imports.JOB_KINDS:
        raise Http404
    return job


def _labels(job: Job) -> dict[str, Any]:
    return {
        "title": _("Checking the file")
        if job.kind == imports.JOB_PREVIEW
        else _("Importing the file"),
        "phases": {
            "queued": _("Waiting for the worker…"),
            imports.READING: _("Reading the file…"),
            imports.WRITING: _("Checking lines…")
            if job.kind == imports.JOB_PREVIEW
            else _("Writing punches…"),
            "recomputing": _("Recomputing the days…"),
        },
    }


@login_required
@require_safe
def job(request: HttpRequest, job_id: str) -> HttpResponse:
    """The job's page: progress while it runs, then the dry run or the result."""
    job = _job(request, job_id)
    if not job.finished:
        context = {
            "job": job,
            "progress": job_progress(job),
            "status_url": reverse("devices:import_job_status", args=[job.pk]),
            **_labels(job),
        }
        return render(request, "devices/import_job.html", context)
    if job.status == JobStatus.FAILED:
        error = str((job.error or {}).get("message", ""))
        return _form(request, error=error, serial=job.params.get("serial", ""))
    result = job.result or {}
    return render(
        request,
        "devices/import_result.html",
        {
            "job": job,
            "result": result,
            "counts": result.get("counts", {}),
            "preview": job.kind == imports.JOB_PREVIEW,
            "filename": job.params.get("filename", ""),
            "serial": job.params.get("serial", ""),
            "shown": imports.SHOWN_LINES,
        },
    )


@login_required
@require_safe
def job_status(request: HttpRequest, job_id: str) -> HttpResponse:
    """The progress bar (htmx polls it); a finished job reloads the page for its outcome."""
    job = _job(request, job_id)
    status_url = reverse("devices:import_job_status", args=[job.pk])
    return progress_poll(request, job, status_url=status_url, phases=_labels(job)["phases"])
