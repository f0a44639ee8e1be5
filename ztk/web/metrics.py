"""Prometheus metrics at /metrics: request latency, punches ingested, recompute lag, outbox
backlog and the worker's heartbeat age.

The counters (ztk/core/metrics.py) are kept per process: with several gunicorn workers
each scrape sees the worker that answered it, unless PROMETHEUS_MULTIPROC_DIR names an
empty folder shared by the node's workers (set before they start, emptied at each start),
in which case the scrape adds them up. The gauges are read from the database and the jobs
cache at scrape time, so every node reports the same queues.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ztk.core.health import last_beat
from ztk.core.metrics import REQUEST_LATENCY
from ztk.notifications.selectors import outbox_counts
from ztk.reports.selectors import delivery_counts

from .health import recompute_queue

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Statuses still to be delivered: the backlog.
BACKLOG = ("pending", "failed")


class RequestLatencyMiddleware:
    """Times every request; labelled by the resolved view's name (bounded: the URL
    patterns), "unresolved" for a 404 that matched none, and the method (others: OTHER)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match is not None else "unresolved"
        method = request.method if request.method in METHODS else "OTHER"
        REQUEST_LATENCY.labels(view=view, method=method).observe(time.perf_counter() - started)
        return response


class _Live(Collector):
    """The gauges read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        days, oldest = recompute_queue()
        lag = GaugeMetricFamily(
            "ztk_recompute_lag_seconds",
            "Age of the oldest employee-day waiting for the recompute drain (0: none).",
        )
        lag.add_metric([], float(oldest or 0))
        yield lag
        queued = GaugeMetricFamily(
            "ztk_recompute_queued_days", "Employee-days waiting for the recompute drain."
        )
        queued.add_metric([], float(days))
        yield queued
        backlog = GaugeMetricFamily(
            "ztk_outbox_backlog",
            "Messages not yet delivered (pending or failed and retrying), by outbox and status.",
            labels=["outbox", "status"],
        )
        for outbox, counts in (
            ("notifications", outbox_counts()),
            ("payroll", delivery_counts()),
        ):
            for status in BACKLOG:
                backlog.add_metric([outbox, status], float(counts.get(status, 0)))
        yield backlog
        try:
            seen = last_beat()
        except Exception:  # noqa: BLE001 - the jobs cache unreachable: no sample
            seen = None
        heartbeat = GaugeMetricFamily(
            "ztk_worker_heartbeat_age_seconds",
            "Seconds since a background worker was last seen (absent: never seen).",
        )
        if seen is not None:
            heartbeat.add_metric([], max(0.0, time.time() - seen))
        yield heartbeat


class _ThisProcess(Collector):
    """The default registry's metrics (this process's counters, process and GC figures)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_Live())
    return generate_latest(registry)


def authorized(request: HttpRequest) -> bool | None:
    """None: no token configured (the endpoint does not exist); else whether the request
    carries "Authorization: Bearer <METRICS_TOKEN>" (compared in constant time)."""
    token = settings.METRICS_TOKEN
    if not token:
        return None
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
