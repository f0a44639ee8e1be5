"""The staff second factor holds on every door: pages, every API operation, the set-up page.

With OTP_REQUIRED_FOR_STAFF on, a password-only session of HR or an admin was redirected on
pages but could call the whole API. Now every API operation — enumerated from the ninja API
object, so a new one is covered without editing this file — answers such a session 403
`otp_required`; the set-up page shows a new secret only shortly after the password was
entered; `ztk check --deploy` warns while the rule is off.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.checks import run_checks
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.helpers import CODE_URL, OTP_URL, code_for, log_in
from tests.api.conftest import call
from ztk.accounts.services import api_key_create
from ztk.api.api import api

PREFIX = "/api/v1"
# Pieces of the API that are not operations: its root, the schema, the docs and their files, the
# catch-all JSON 404. Everything else must show up in the schema (checked below).
NOT_OPERATIONS = {"api-root", "openapi-json", "openapi-view", "docs-asset", "not-found"}


def _schema_operations() -> list[tuple[str, str]]:
    paths = api.get_openapi_schema(path_prefix="")["paths"]
    return sorted(
        (method.upper(), url) for url, operations in paths.items() for method in operations
    )


OPERATIONS = _schema_operations()


def _concrete(url: str) -> str:
    # Authentication runs before any parameter is read, so any value will do.
    return PREFIX + re.sub(r"\{[^}]+\}", "1", url)


def test_every_api_route_is_in_the_enumeration():
    # A route left out of the schema would escape the matrix below.
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/" + str(p.pattern))
        for p in api.urls[0]
        if p.name not in NOT_OPERATIONS
    }
    assert routes == {url for _method, url in OPERATIONS}
    assert len(OPERATIONS) >= 28  # the API of today; it only grows


@pytest.fixture
def unverified_hr(client, org, settings):
    """HR logged in with the password only, while the staff rule is on."""
    settings.OTP_REQUIRED_FOR_STAFF = True
    assert log_in(client, "hr").url == "/"  # no device yet: the password alone logs in
    return client


@pytest.mark.parametrize(("method", "url"), OPERATIONS, ids=[f"{m} {u}" for m, u in OPERATIONS])
def test_unverified_staff_session_gets_otp_required_on_every_operation(unverified_hr, method, url):
    reply = call(unverified_hr, method, _concrete(url), body={})

    assert reply.status == 403, reply.body
    assert reply.body["code"] == "otp_required"


@pytest.mark.parametrize("who", ["sysadmin", "superuser"])
def test_admin_sessions_are_held_on_the_api_too(client, org, settings, who):
    settings.OTP_REQUIRED_FOR_STAFF = True
    if who == "superuser":
        from tests.factories import UserFactory

        user = UserFactory(username="root", is_staff=True, is_superuser=True)
    else:
        user = org.sysadmin
    client.force_login(user)

    reply = call(client, "PUT", f"{PREFIX}/departments/RD", body={"name": "改名"})

    assert (reply.status, reply.body["code"]) == (403, "otp_required")


def test_verified_staff_session_and_the_rule_off_pass(client, org, settings):
    # given: HR with a device, logged in with password and code
    settings.OTP_REQUIRED_FOR_STAFF = True
    device = TOTPDevice.objects.create(user=org.hr.user, name="phone", confirmed=True)
    log_in(client, "hr")
    client.post(CODE_URL, {"token": code_for(device)})

    assert call(client, "GET", f"{PREFIX}/employees").status == 200


def test_rule_off_lets_a_password_session_call_the_api(client, org, settings):
    settings.OTP_REQUIRED_FOR_STAFF = False
    log_in(client, "hr")

    assert call(client, "GET", f"{PREFIX}/employees").status == 200


def test_employees_are_not_held_on_the_api(client, org, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    log_in(client, "employee")

    assert call(client, "GET", f"{PREFIX}/me").status == 200


def test_an_api_key_of_a_staff_user_is_its_own_credential(client, org, settings):
    # A key is minted on the server only (`ztk create-api-key`); it is not a session and is
    # not asked for a second factor, even next to an unverified session cookie.
    settings.OTP_REQUIRED_FOR_STAFF = True
    _key, raw = api_key_create(actor=None, user=org.hr.user, name="payroll")
    log_in(client, "hr")

    assert call(client, "GET", f"{PREFIX}/employees", key=raw).status == 200
    assert call(client, "GET", f"{PREFIX}/employees").body["code"] == "otp_required"


def test_no_session_can_mint_or_read_an_api_key(client, org, settings):
    # given: a fully verified system admin in the settings area
    device = TOTPDevice.objects.create(user=org.sysadmin, name="phone", confirmed=True)
    log_in(client, "sysadmin")
    client.post(CODE_URL, {"token": code_for(device)})
    key, raw = api_key_create(actor=None, user=org.hr.user, name="payroll")

    # then: no add form, and the change page shows neither the key nor its hash
    assert client.get("/admin/accounts/apikey/add/").status_code == 403
    page = client.get(f"/admin/accounts/apikey/{key.pk}/change/")
    assert page.status_code == 200
    assert raw.encode() not in page.content
    assert key.key_hash.encode() not in page.content
    # and no API operation creates keys
    assert not [url for _m, url in OPERATIONS if "key" in url.lower()]


# --- the enrolment secret ------------------------------------------------------------------


def _shows_secret(response) -> bool:
    return b"data:image/svg+xml" in response.content or "secret" in (response.context or {})


def test_a_session_alone_is_not_shown_a_new_secret(client, org):
    # given: a session that did not just enter the password (a stolen cookie, say)
    client.force_login(org.hr.user)

    # when
    page = client.get(OTP_URL)

    # then: the password first, no secret
    assert page.status_code == 200
    assert not _shows_secret(page)
    assert "password" in page.context["form"].fields
    # and posting a made-up code does not turn anything on
    client.post(OTP_URL, {"token": "123456"})
    assert not TOTPDevice.objects.filter(user=org.hr.user, confirmed=True).exists()


def test_a_wrong_password_counts_towards_the_lockout_and_shows_nothing(client, org):
    client.force_login(org.hr.user)

    page = client.post(OTP_URL, {"password": "not-the-password"})

    assert page.status_code == 200
    assert page.context["form"].errors["password"]
    assert not _shows_secret(page)
    assert AccessAttempt.objects.get(username="hr").failures_since_start == 1


def test_the_right_password_shows_the_secret(client, org):
    client.force_login(org.hr.user)

    response = client.post(OTP_URL, {"password": "correct-horse-battery-9", "next": "/hr/"})

    assert response.status_code == 302
    assert response.url == f"{OTP_URL}?next=%2Fhr%2F"
    page = client.get(response.url)
    assert _shows_secret(page)


def test_the_password_from_the_log_in_is_fresh_for_ten_minutes(client, org):
    log_in(client, "hr")
    assert _shows_secret(client.get(OTP_URL))

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert not _shows_secret(client.get(OTP_URL))


# --- ztk check --deploy ----------------------------------------------------------------------


def _deploy_check_ids() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True)}


def test_deploy_check_warns_while_the_staff_rule_is_off(settings):
    settings.OTP_REQUIRED_FOR_STAFF = False
    assert "ztk.W001" in _deploy_check_ids()

    settings.OTP_REQUIRED_FOR_STAFF = True
    assert "ztk.W001" not in _deploy_check_ids()


def test_the_admin_never_shows_someone_s_second_factor_secret(client, org):
    # given: HR's confirmed device and a system admin in the settings area
    device = TOTPDevice.objects.create(user=org.hr.user, name="phone", confirmed=True)
    client.force_login(org.sysadmin)

    # then: neither its QR code nor its key can be read there
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key.encode() not in page.content
