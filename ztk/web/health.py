"""What /healthz reports: database, cache, background worker and the queues."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone

from ztk.attendance.models import PendingRecompute
from ztk.core.health import STALE_AFTER_SECONDS, last_beat
from ztk.org.models import Company

# Days waiting for the drain longer than this: the queue is not being worked off.
QUEUE_STALE_SECONDS = 600


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - reported, not raised: the probe must answer
        return "error"
    return "ok"


def _cache() -> str:
    try:
        cache.set("ztk:healthz", 1, timeout=10)
        return "ok" if cache.get("ztk:healthz") == 1 else "error"
    except Exception:  # noqa: BLE001
        return "error"


def _worker() -> dict[str, Any]:
    try:
        seen = last_beat()
    except Exception:  # noqa: BLE001 - the jobs cache unreachable
        return {"status": "error", "last_seen_seconds": None}
    if seen is None:
        return {"status": "unknown", "last_seen_seconds": None}
    age = max(0, round(time.time() - seen))
    return {"status": "ok" if age <= STALE_AFTER_SECONDS else "stale", "last_seen_seconds": age}


def _queues(database_ok: bool) -> dict[str, Any]:
    from huey.contrib.djhuey import HUEY

    out: dict[str, Any] = {"tasks": None, "recompute_days": None, "oldest_seconds": None}
    with contextlib.suppress(Exception):  # the queue's storage unreachable: None
        out["tasks"] = HUEY.pending_count()
    if database_ok:
        out["recompute_days"], out["oldest_seconds"] = recompute_queue()
    return out


def recompute_queue() -> tuple[int, int | None]:
    """(employee-days waiting for the drain, age in seconds of the oldest; None: none)."""
    found = PendingRecompute.objects.aggregate(oldest=Min("queued_at"), days=Count("pk"))
    if found["oldest"] is None:
        return found["days"], None
    return found["days"], max(0, round((timezone.now() - found["oldest"]).total_seconds()))


def health() -> tuple[int, dict[str, Any]]:
    """(HTTP status, report). 503 only when this node cannot serve (database or cache
    down); a stale worker or an old queue is "degraded" with 200, so a load balancer
    keeps the node while a monitor sees the problem."""
    database = _database()
    report: dict[str, Any] = {
        "database": database,
        "cache": _cache(),
        "worker": _worker(),
        "queue": _queues(database == "ok"),
    }
    if database != "ok" or report["cache"] != "ok":
        report = {"status": "error", **report}
        return 503, report
    oldest = report["queue"]["oldest_seconds"]
    degraded = report["worker"]["status"] != "ok" or (
        oldest is not None and oldest > QUEUE_STALE_SECONDS
    )
    return 200, {"status": "degraded" if degraded else "ok", **report}


LIVE_CACHE_KEY = "ztk:live:company"
LIVE_CACHE_SECONDS = 60


def live() -> dict[str, Any]:
    """The liveness answer: this process serves requests. One query, cached for a minute,
    so it costs what the web stack costs and little more — `make bench` (g) uses it as the
    floor the other pages are measured against."""
    name = cache.get(LIVE_CACHE_KEY)
    if name is None:
        name = Company.objects.values_list("name", flat=True).first() or ""
        cache.set(LIVE_CACHE_KEY, name, LIVE_CACHE_SECONDS)
    return {"status": "ok", "company": name}
