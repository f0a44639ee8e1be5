"""The process-wide Prometheus counters, defined at the bottom layer so any app can count.

Values live in this process unless PROMETHEUS_MULTIPROC_DIR is set before the first import
(prometheus_client then writes them to files in that folder, which /metrics adds up over
every gunicorn worker of the node). The gauges read at scrape time (queues, heartbeat)
are in ztk/web/metrics.py.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from prometheus_client import Counter, Histogram

PUNCHES_INGESTED = Counter(
    "ztk_punches_ingested",
    "Punches stored for the first time (duplicates not counted), by source.",
    ["source"],
)

REQUEST_LATENCY = Histogram(
    "ztk_http_request_duration_seconds",
    "Time to answer a request, by view name and HTTP method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def count_punches(sources: Iterable[str]) -> None:
    """Count stored punches by source once the transaction that stored them commits."""
    counts: dict[str, int] = {}
    for source in sources:
        counts[source] = counts.get(source, 0) + 1
    if not counts:
        return

    def add() -> None:
        for source, n in counts.items():
            PUNCHES_INGESTED.labels(source=source).inc(n)

    transaction.on_commit(add)
