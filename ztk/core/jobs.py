"""Background jobs with a progress bar: the one mechanism for work too long for a request.

A view creates the job (`job_create`) and hands its id to a Huey task, which calls
`job_run` with the work to do; the page polls `job_progress` (htmx, every second) and
shows the outcome kept on the row. Live progress goes to the cache (the "jobs" alias:
Redis when configured, else files under the var directory, shared by the web and the
worker processes), because the work may run inside a transaction: an all-or-nothing
import writes nothing visible until it ends. A job whose progress has not moved for
STALE_AFTER (the worker died) is shown as interrupted.

Jobs are bookkeeping, not business writes: they are not audited themselves; the work
they run audits what it changes (e.g. ``corrections.import.commit``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import caches
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .errors import DomainError, NotFoundError
from .models import Job, JobStatus

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
KEEP_FOR = timedelta(days=7)
CACHE_SECONDS = 24 * 3600

Report = Callable[[str, int, int], None]
Work = Callable[[Job, Report], dict[str, Any]]


def _cache():
    return caches["jobs"]


def _key(job_id: Any) -> str:
    return f"ztk:job:{job_id}"


def job_create(*, owner: Any, kind: str, params: dict[str, Any]) -> Job:
    """A queued job of `owner`; the caller enqueues its task. Old finished jobs are swept.

    The job runs in the language of the request that started it (its messages are kept)."""
    Job.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    params = {"lang": translation.get_language() or settings.LANGUAGE_CODE, **params}
    job = Job.objects.create(owner=owner, kind=kind, params=params)
    report(job.pk, "queued", 0, 0)
    return job


def report(job_id: Any, phase: str, done: int, total: int) -> None:
    _cache().set(
        _key(job_id),
        {"phase": phase, "done": done, "total": total, "at": time.time()},
        CACHE_SECONDS,
    )


def job_run(job_id: Any, work: Work) -> Job | None:
    """Run `work(job, report)` for a queued job; keep its result or the refusal that ended
    it. A job already started (a retried task) is left alone."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = Job.objects.select_related("owner").get(pk=job_id)

    def progress(phase: str, done: int, total: int) -> None:
        report(job.pk, phase, done, total)

    try:
        with translation.override(job.params.get("lang") or settings.LANGUAGE_CODE):
            result = work(job, progress)
    except DomainError as exc:
        _finish(job, JobStatus.FAILED, error=exc.as_dict())
    except Exception as exc:  # noqa: BLE001 - the job records it; the worker goes on
        log.exception("job %s (%s) failed", job.pk, job.kind)
        message = str(_("The job failed unexpectedly: %(error)s") % {"error": type(exc).__name__})
        _finish(job, JobStatus.FAILED, error={"code": "job_failed", "message": message})
    else:
        _finish(job, JobStatus.DONE, result=result)
    job.refresh_from_db()
    return job


def _json(value: Any) -> Any:
    """Plain JSON (dates, decimals and lazy texts as strings) for the JSON columns."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def _finish(job: Job, status: str, *, result: Any = None, error: Any = None) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status, result=_json(result), error=_json(error), finished_at=timezone.now()
    )
    report(job.pk, status, 1, 1)


def job_for(user: Any, job_id: Any) -> Job:
    """The job if `user` started it; NotFoundError for anyone else and unknown ids."""
    try:
        UUID(str(job_id))
    except ValueError:
        raise NotFoundError() from None
    job = Job.objects.filter(pk=job_id, owner_id=getattr(user, "pk", None)).first()
    if job is None:
        raise NotFoundError()
    return job


@dataclass(frozen=True)
class Progress:
    status: str
    phase: str
    done: int
    total: int
    interrupted: bool

    @property
    def percent(self) -> int:
        if self.status in (JobStatus.DONE, JobStatus.FAILED):
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0


def job_progress(job: Job) -> Progress:
    """Where the job is: its status, the phase and rows done of the current phase, and
    whether it was interrupted (no progress for STALE_AFTER while unfinished)."""
    live = _cache().get(_key(job.pk)) or {}
    last = live.get("at") or (job.started_at or job.created_at).timestamp()
    interrupted = not job.finished and time.time() - last > STALE_AFTER.total_seconds()
    return Progress(
        status=job.status,
        phase=str(live.get("phase") or job.status),
        done=int(live.get("done") or 0),
        total=int(live.get("total") or 0),
        interrupted=interrupted,
    )


def progress_poll(
    request: Any, job: Job, *, status_url: str, phases: dict[str, Any]
) -> HttpResponse:
    """The answer to htmx's poll of a job page: the progress bar while the job runs; once
    it has ended, an empty body that makes the page reload to show the outcome."""
    if job.finished:
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    context = {
        "job": job,
        "progress": job_progress(job),
        "status_url": status_url,
        "phases": phases,
    }
    return render(request, "includes/job_progress.html", context)
