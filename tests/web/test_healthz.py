"""/healthz: what a load balancer and a monitor read — database, cache, worker, queues."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from django.utils import timezone

from ztk.attendance.models import PendingRecompute
from ztk.core import health as heartbeat
from ztk.core.tasks import worker_heartbeat
from ztk.web import health


@pytest.fixture(autouse=True)
def no_heartbeat():
    from django.core.cache import caches

    caches["jobs"].delete(heartbeat.HEARTBEAT_KEY)
    yield
    caches["jobs"].delete(heartbeat.HEARTBEAT_KEY)


@pytest.mark.django_db
def test_without_a_worker_seen_the_node_is_up_but_degraded(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok" and body["cache"] == "ok"
    assert body["worker"] == {"status": "unknown", "last_seen_seconds": None}
    assert body["queue"]["recompute_days"] == 0
    assert body["queue"]["oldest_seconds"] is None


@pytest.mark.django_db
def test_the_worker_heartbeat_makes_it_ok_and_goes_stale_after_three_minutes(client):
    worker_heartbeat.call_local()
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["worker"]["status"] == "ok"
    assert body["worker"]["last_seen_seconds"] <= 5

    heartbeat.beat(time.time() - heartbeat.STALE_AFTER_SECONDS - 30)
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["worker"]["status"] == "stale"
    assert body["worker"]["last_seen_seconds"] >= heartbeat.STALE_AFTER_SECONDS + 30


@pytest.mark.django_db
def test_days_waiting_for_the_drain_are_counted_with_the_age_of_the_oldest(client, org):
    heartbeat.beat()
    queued = timezone.now() - timedelta(seconds=health.QUEUE_STALE_SECONDS + 60)
    PendingRecompute.objects.create(
        employee=org.employee, day=date(2026, 11, 2), first_punch_id=1, queued_at=queued
    )
    PendingRecompute.objects.create(
        employee=org.employee, day=date(2026, 11, 3), first_punch_id=2, queued_at=timezone.now()
    )
    body = client.get("/healthz").json()
    assert body["queue"]["recompute_days"] == 2
    assert body["queue"]["oldest_seconds"] >= health.QUEUE_STALE_SECONDS + 60
    assert body["status"] == "degraded"  # the queue is not being worked off


@pytest.mark.django_db
def test_a_database_that_does_not_answer_takes_the_node_out_with_503(client, monkeypatch):
    monkeypatch.setattr(health, "_database", lambda: "error")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "error"
    assert body["queue"]["recompute_days"] is None


@pytest.mark.django_db
def test_live_answers_with_one_cached_query(client, django_assert_num_queries):
    from django.core.cache import cache

    from ztk.org.models import Company

    Company.objects.create(name="测速公司")
    cache.delete(health.LIVE_CACHE_KEY)
    with django_assert_num_queries(1):
        first = client.get("/healthz/live")
    with django_assert_num_queries(0):
        again = client.get("/healthz/live")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"status": "ok", "company": "测速公司"}
    assert again["Cache-Control"] == "no-store"
