"""/metrics: Prometheus metrics for a scraper holding METRICS_TOKEN, nothing for anyone else."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ztk.attendance.models import PendingRecompute
from ztk.core import health as heartbeat
from ztk.notifications.models import OutboxMessage
from ztk.punches.services import PunchInput, record_punches

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TOKEN = "s3cret-scrape-token"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"
    return response.content.decode()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample; 0 when the line is absent."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        metric, _, raw = key.partition("{")
        if metric != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', raw))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_without_a_configured_token_the_endpoint_does_not_exist(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
)
def test_without_the_right_bearer_token_it_is_refused(client, token, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Cache-Control"] == "no-store"
    assert b"ztk_" not in response.content


def test_a_signed_in_user_without_the_token_is_refused_too(client, token, org):
    client.force_login(org.hr.user)
    assert client.get("/metrics").status_code == 401


def test_with_the_token_every_metric_is_exposed(client, token):
    client.get("/healthz")  # one timed request of a named view
    text = scrape(client)
    for name in (
        "ztk_http_request_duration_seconds_bucket",
        "ztk_recompute_lag_seconds",
        "ztk_recompute_queued_days",
        "ztk_outbox_backlog",
        "ztk_worker_heartbeat_age_seconds",
        "ztk_punches_ingested_total",
    ):
        assert f"# TYPE {name.removesuffix('_bucket').removesuffix('_total')}" in text, name
    assert (
        sample(text, "ztk_http_request_duration_seconds_count", view="web:healthz", method="GET")
        >= 1
    )
    assert 'outbox="notifications",status="pending"' in text
    assert 'outbox="payroll",status="failed"' in text


def test_a_stored_punch_increments_the_counter_by_source(
    client, token, org, django_capture_on_commit_callbacks
):
    before = sample(scrape(client), "ztk_punches_ingested_total", source="mobile")
    now = timezone.now()
    item = PunchInput(at=now - timedelta(minutes=5), source="mobile", employee_no="1002")
    with django_capture_on_commit_callbacks(execute=True):
        assert record_punches([item], now=now).new == 1
    with django_capture_on_commit_callbacks(execute=True):  # the same punch again: duplicate
        assert record_punches([item], now=now).new == 0
    assert sample(scrape(client), "ztk_punches_ingested_total", source="mobile") == before + 1


def test_queues_and_heartbeat_are_read_at_scrape_time(client, token, org):
    queued = timezone.now() - timedelta(seconds=700)
    PendingRecompute.objects.create(
        employee=org.employee, day=date(2026, 11, 2), first_punch_id=1, queued_at=queued
    )
    OutboxMessage.objects.create(channel="email", target="a@example.com")
    heartbeat.beat(datetime.now().timestamp() - 30)
    text = scrape(client)
    assert sample(text, "ztk_recompute_lag_seconds") >= 700
    assert sample(text, "ztk_recompute_queued_days") == 1
    assert sample(text, "ztk_outbox_backlog", outbox="notifications", status="pending") == 1
    assert 30 <= sample(text, "ztk_worker_heartbeat_age_seconds") < 60
