"""/settings/api-keys/: HR creates a key (shown once), sees its last use, revokes it."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.api.conftest import call
from ztk.accounts.models import ApiKey
from ztk.accounts.services import api_key_create
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError

pytestmark = pytest.mark.django_db
URL = "/settings/api-keys/"


def _create(client, **body):
    return client.post(URL, {"name": "ERP", "expires_on": "2027-06-30", **body})


@time_machine.travel("2026-12-05 10:00 +0800", tick=False)
def test_hr_creates_a_key_shown_once_that_works_until_its_expiry(client, org):
    client.force_login(org.hr.user)

    response = _create(client)

    assert response.status_code == 200
    raw = re.search(r'id="new-key">(ztk_[^<]+)<', response.content.decode()).group(1)
    key = ApiKey.objects.get(name="ERP")
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.expires_on == date(2027, 6, 30) and key.user == org.hr.user
    event = AuditEvent.objects.get(action="accounts.api_key.create")
    assert raw not in str(event.changes) and "2027-06-30" in str(event.changes)
    # never again: the list shows only the prefix
    listing = client.get(URL).content.decode()
    assert raw not in listing and key.prefix in listing
    assert call(client, "GET", "/api/v1/me", key=raw).status == 200
    with time_machine.travel("2027-07-01 00:30 +0800", tick=False):
        assert call(client, "GET", "/api/v1/me", key=raw).status == 401


@time_machine.travel("2026-12-05 10:00 +0800", tick=False)
def test_an_expiry_in_the_past_is_refused_on_the_form_with_the_name_kept(client, org):
    client.force_login(org.hr.user)

    response = _create(client, name="工资系统", expires_on="2026-12-04")

    assert response.status_code == 422
    body = response.content.decode()
    assert "2026-12-04" in body and 'value="工资系统"' in body
    assert not ApiKey.objects.exists()
    assert _create(client, expires_on="not a date").status_code == 422


@time_machine.travel("2026-12-05 10:00 +0800", tick=False)
def test_the_service_refuses_an_expiry_beyond_five_years(org):
    far = timezone.localdate() + timedelta(days=6 * 366)
    with pytest.raises(DomainError) as refused:
        api_key_create(actor=org.hr.user, user=org.hr.user, name="x", expires_on=far)
    assert refused.value.code == "expiry_too_far"


def test_hr_revokes_a_key_and_it_stops_working(client, org):
    key, raw = api_key_create(actor=org.hr.user, user=org.hr.user, name="old")
    client.force_login(org.hr.user)

    response = client.post(f"{URL}{key.pk}/revoke/")

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    event = AuditEvent.objects.get(action="accounts.api_key.revoke")
    assert event.actor_id == org.hr.user.pk
    assert call(client, "GET", "/api/v1/me", key=raw).status == 401
    assert "revoke/" not in client.get(URL).content.decode()  # no second revoke button


def test_the_auditor_reads_the_list_but_cannot_create_or_revoke(client, org):
    key, _raw = api_key_create(actor=org.hr.user, user=org.hr.user, name="payroll")
    client.force_login(org.auditor.user)

    page = client.get(URL)

    assert page.status_code == 200
    body = page.content.decode()
    assert "payroll" in body and 'name="expires_on"' not in body and "revoke/" not in body
    assert _create(client).status_code == 403
    assert client.post(f"{URL}{key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None


@pytest.mark.parametrize(
    ("key_id", "status"),
    [("0", 404), ("99999999999999999999", 404), ("-1", 404), ("abc", 404), ("%00", 400)],
)
def test_hostile_key_ids_are_not_found(client, org, key_id, status):
    client.force_login(org.hr.user)
    assert client.post(f"{URL}{key_id}/revoke/").status_code == status  # NUL: the input guard


def test_hostile_form_input_never_fails(client, org):
    client.force_login(org.hr.user)
    for body in (
        {"name": "x" * 5000, "expires_on": "9" * 300},
        {"name": "a\x00b", "expires_on": "2027-01-01"},
        {"name": "<script>alert(1)</script>", "expires_on": "2027-02-30"},
    ):
        assert _create(client, **body).status_code in (200, 400, 422)
