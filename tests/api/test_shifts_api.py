"""The shifts API: idempotent create-or-update by code, field-level 422s, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztk.audit.models import AuditEvent
from ztk.scheduling import hooks
from ztk.scheduling.models import Shift

from .conftest import call

pytestmark = pytest.mark.django_db
URL = "/api/v1/shifts/N1"
NIGHT = {"name": "夜班", "segments": [{"start": "22:00", "end": "06:00", "out_latest": 180}]}


def test_put_creates_then_an_identical_put_changes_nothing(client, hr_key):
    created = call(client, "PUT", URL, key=hr_key, body=NIGHT)

    assert created.status == 201
    body = created.body
    assert body["code"] == "N1" and body["kind"] == "fixed" and body["crosses_midnight"] is True
    assert body["segments"][0]["start"] == "22:00:00" and body["segments"][0]["out_latest"] == 180
    assert body["segments"][0]["in_earliest"] == 120  # the rules.md default
    again = call(client, "PUT", URL, key=hr_key, body=NIGHT)
    assert again.status == 200 and again.body == body
    assert AuditEvent.objects.filter(action__startswith="scheduling.shift").count() == 1
    assert call(client, "GET", URL, key=hr_key).body == body
    listing = call(client, "GET", "/api/v1/shifts", key=hr_key).body
    assert listing["count"] == 1 and listing["items"] == [body]


def test_put_updates_a_shift_in_use_and_recomputes_its_days(
    client, hr_key, org, django_capture_on_commit_callbacks
):
    from ztk.scheduling import services

    call(client, "PUT", URL, key=hr_key, body=NIGHT)
    shift = Shift.objects.get(code="N1")
    services.pattern_set(actor=org.hr.user, group=org.group, shifts=[shift] * 5 + [None, None])
    heard: list = []
    hooks.connect(heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            reply = call(
                client,
                "PUT",
                URL,
                key=hr_key,
                body={**NIGHT, "segments": [{"start": "21:00", "end": "05:00"}]},
            )
    finally:
        hooks.disconnect(heard.append)
    assert reply.status == 200 and reply.body["segments"][0]["start"] == "21:00:00"
    assert any(c.reason == "scheduling.shift" for batch in heard for c in batch)
    assert AuditEvent.objects.filter(action="scheduling.shift.update").count() == 1


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            {
                "name": "x",
                "segments": [
                    {"start": "09:00", "end": "12:00"},
                    {"start": "11:00", "end": "18:00"},
                ],
            },
            "segments.1.start",
            "overlap",
        ),
        ({"name": "x", "segments": [{"start": "09:00", "end": "18:00"}] * 4}, "segments", "1 to 3"),
        (
            {
                "name": "x",
                "segments": [
                    {"start": "09:00", "end": "12:00"},
                    {"start": "12:00", "end": "18:00"},
                ],
            },
            "segments.1.start",
            "break",
        ),
        ({"name": "x", "segments": []}, "segments", "1 to 3"),
        (
            {"name": "x", "segments": [{"start": "22:00", "end": "06:00", "out_latest": 1440}]},
            "segments.0.out_latest",
            "24:00",
        ),
        (
            {"name": "x", "segments": [{"start": "09:00", "end": "18:00", "grace_in": 300}]},
            "segments.0.grace_in",
            "grace",
        ),
        (
            {"name": "x", "segments": [{"start": "09:00:30", "end": "18:00"}]},
            "segments.0.start",
            "whole minutes",
        ),
        (
            {"name": "x", "segments": [{"start": "09:00+08:00", "end": "18:00"}]},
            "segments.0.start",
            "time zone",
        ),
        (
            {"name": "x", "kind": "flexible", "segments": [{"start": "07:00", "end": "22:00"}]},
            "arrive_from",
            "flexible",
        ),
        (
            {
                "name": "x",
                "kind": "flexible",
                "segments": [{"start": "07:00", "end": "22:00"}],
                "arrive_from": "08:00",
                "arrive_until": "23:00",
                "required_minutes": 540,
            },
            "arrive_until",
            "22:00",
        ),
        (
            {"name": "x", "segments": [{"start": "09:00", "end": "18:00"}], "arrive_from": "09:00"},
            "arrive_from",
            "flexible",
        ),
    ],
)
def test_invalid_definitions_are_422_with_the_field_named(client, hr_key, body, field, words):
    reply = call(client, "PUT", URL, key=hr_key, body=body)

    assert reply.status == 422, reply.body
    assert reply.body["code"] == "invalid_shift"
    assert field in reply.body["details"], reply.body["details"]
    assert words in " ".join(reply.body["details"][field])
    assert not Shift.objects.exists()


def test_a_refusal_comes_in_the_callers_language(client, hr_key):
    body = {"name": "x", "segments": [{"start": "09:00", "end": "18:00", "grace_in": 300}]}
    reply = call(client, "PUT", URL, key=hr_key, body=body, lang="zh-hans")
    assert reply.status == 422
    assert "宽限" in " ".join(reply.body["details"]["segments.0.grace_in"])


def test_unknown_shift_is_404(client, hr_key):
    assert call(client, "GET", "/api/v1/shifts/NOPE", key=hr_key).status == 404


minutes = st.one_of(st.none(), st.integers(-5, 3000))
times = st.sampled_from(["00:00", "06:00", "09:00", "12:00", "18:00", "22:00", "23:59", "9", ""])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    segments=st.lists(
        st.fixed_dictionaries(
            {"start": times, "end": times},
            optional={"in_earliest": minutes, "out_latest": minutes, "grace_in": minutes},
        ),
        max_size=4,
    ),
    kind=st.sampled_from(["fixed", "flexible", "other"]),
)
def test_no_definition_makes_a_500(client, hr_key, segments, kind):
    reply = call(
        client, "PUT", URL, key=hr_key, body={"name": "x", "kind": kind, "segments": segments}
    )
    assert reply.status in (200, 201, 422), reply.body
