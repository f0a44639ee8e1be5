"""TOTP second factor: set-up, the code step at log-in, and the rule for HR and admins."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.helpers import CODE_URL, OTP_URL, audit_actions, code_for, log_in


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    # django-otp makes you wait 2^n seconds after n wrong codes; the tests check the counting
    # against the lock-out instead.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _device(user, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=confirmed)


def test_user_without_a_device_is_not_asked_for_a_code(client, org):
    response = log_in(client, "employee")

    assert response.url == "/"


def test_user_with_a_device_must_enter_the_code(client, org):
    # given
    device = _device(org.employee.user)

    # when: the password alone
    response = log_in(client, "employee")

    # then: not logged in yet, asked for the code
    assert response.status_code == 302
    assert response.url == CODE_URL
    assert "_auth_user_id" not in client.session
    page = client.get(CODE_URL)
    assert page.status_code == 200
    assert b'autocomplete="one-time-code"' in page.content

    # when: the right code
    response = client.post(CODE_URL, {"token": code_for(device)})

    # then
    assert response.status_code == 302
    assert response.url == "/"
    assert client.session["_auth_user_id"] == str(org.employee.user.pk)
    assert client.get("/").status_code == 200
    [event] = audit_actions("accounts.login")
    assert event.changes == {"second_factor": True, "via": "password"}


def test_wrong_code_does_not_log_in(client, org):
    device = _device(org.employee.user)
    log_in(client, "employee")
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = client.post(CODE_URL, {"token": wrong})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_code_step_without_the_password_step_goes_back_to_login(client, org):
    response = client.get(CODE_URL)

    assert response.status_code == 302
    assert response.url == "/accounts/login/"


def test_five_wrong_codes_lock_the_account(client, org):
    device = _device(org.employee.user)
    log_in(client, "employee")
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    statuses = [client.post(CODE_URL, {"token": wrong}).status_code for _ in range(5)]

    assert statuses[:4] == [200] * 4
    assert statuses[4] in {403, 429}
    assert log_in(client, "employee").status_code in {403, 429}


def test_otp_setup_shows_a_qr_code_and_confirms_with_a_code(client, org):
    # given: just logged in with the password
    log_in(client, "employee")

    # when
    page = client.get(OTP_URL)
    device = TOTPDevice.objects.get(user=org.employee.user)
    response = client.post(OTP_URL, {"token": code_for(device)})

    # then
    assert page.status_code == 200
    assert b"data:image/svg+xml;base64," in page.content
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert [e.actor_label for e in audit_actions("accounts.otp.enable")] == ["employee"]
    assert client.get(OTP_URL).templates[0].name == "accounts/otp_done.html"


def test_confirmed_secret_is_never_shown_again(client, org):
    # A session from before the device existed (or a password-only session) must not be
    # able to read the second factor.
    _device(org.employee.user)
    client.force_login(org.employee.user)

    page = client.get(OTP_URL)

    assert page.status_code == 200
    assert page.context["verify_only"] is True
    assert b"data:image/svg+xml" not in page.content
    assert "secret" not in page.context


def test_hr_must_set_up_otp_when_required_and_a_correct_code_gets_through(client, org, settings):
    # given
    settings.OTP_REQUIRED_FOR_STAFF = True

    # when: HR logs in with the password
    assert log_in(client, "hr").url == "/"
    response = client.get("/hr/")

    # then: sent to set up the second factor before anything else
    assert response.status_code == 302
    assert response.url == f"{OTP_URL}?next=%2Fhr%2F"
    assert client.get("/").status_code == 302
    assert client.get("/admin/").status_code == 302
    setup = client.get(response.url)
    assert setup.status_code == 200
    assert setup.context["required"] is True

    # when: the code from the freshly scanned device
    device = TOTPDevice.objects.get(user=org.hr.user)
    done = client.post(OTP_URL, {"token": code_for(device), "next": "/hr/"})

    # then
    assert done.status_code == 302
    assert done.url == "/hr/"
    assert client.get("/hr/").status_code == 200
    assert client.get("/").status_code == 200

    # and the next log-in asks for the code, which lets HR straight in
    client.post("/accounts/logout/")
    assert log_in(client, "hr").url == CODE_URL
    response = client.post(CODE_URL, {"token": code_for(device, drift=1)})
    assert response.url == "/"
    assert client.get("/hr/").status_code == 200


@pytest.mark.parametrize("who", ["sysadmin", "superuser"])
def test_admins_are_held_too(client, org, settings, who):
    settings.OTP_REQUIRED_FOR_STAFF = True
    if who == "superuser":
        from tests.factories import UserFactory

        user = UserFactory(username="root", is_staff=True, is_superuser=True)
    else:
        user = org.sysadmin
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url.startswith(OTP_URL)


def test_employees_are_not_held_by_the_staff_rule(client, org, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    client.force_login(org.employee.user)

    assert client.get("/").status_code == 200


def test_staff_rule_off_lets_hr_in_without_otp(client, org, settings):
    settings.OTP_REQUIRED_FOR_STAFF = False
    client.force_login(org.hr.user)

    assert client.get("/hr/").status_code == 200


def test_htmx_requests_are_redirected_as_a_whole_page(client, org, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    client.force_login(org.hr.user)

    response = client.get("/hr/", HTTP_HX_REQUEST="true")

    assert response.headers["HX-Redirect"].startswith(OTP_URL)
