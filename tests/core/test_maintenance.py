"""MAINTENANCE_MODE=true: read-only, not closed.

Everyone may sign in and out and read every page (with a banner); a form sent meanwhile is
refused with a page in the product's style that shows what was typed and leads back to the
form; the API answers writes with 503 ``maintenance`` and Retry-After; terminals are told
to come back later and send the same punches again, so none is lost.
"""

from __future__ import annotations

import pytest

from tests.accounts.helpers import LOGIN_URL, log_in
from tests.devices.conftest import SERIAL, make_device, post
from ztk.audit.models import AuditEvent
from ztk.corrections.models import CorrectionRequest
from ztk.punches.models import Punch

pytestmark = pytest.mark.django_db

ATTLOG = "1002\t2026-11-23 08:57:10\t0\t1\t0\t0\t0\n1003\t2026-11-23 09:01:00\t0\t1\t0\t0\t0\n"


@pytest.fixture
def maintenance(settings):
    settings.MAINTENANCE_MODE = True


def test_everyone_can_still_sign_in_read_and_sign_out(client, org, maintenance):
    # when: the employee signs in during maintenance
    response = log_in(client, "employee")

    # then: signed in, the home page loads with the banner, and signing out works
    assert response.status_code == 302 and "_auth_user_id" in client.session
    home = client.get("/", headers={"Accept-Language": "en"})
    assert home.status_code == 200
    assert 'id="maintenance-banner"' in home.content.decode()
    assert "saving is paused" in home.content.decode()
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("username", ["hr", "sysadmin"])
def test_hr_and_admins_sign_in_and_open_their_pages(client, org, maintenance, username):
    assert log_in(client, username).status_code == 302
    page = "/hr/" if username == "hr" else "/admin/"
    assert client.get(page).status_code == 200


def test_the_login_page_shows_the_banner_and_no_banner_without_maintenance(client, org, settings):
    settings.MAINTENANCE_MODE = True
    assert 'id="maintenance-banner"' in client.get(LOGIN_URL).content.decode()
    settings.MAINTENANCE_MODE = False
    assert 'id="maintenance-banner"' not in client.get(LOGIN_URL).content.decode()


def test_a_form_sent_during_maintenance_is_refused_but_what_was_typed_comes_back(
    client, org, maintenance
):
    # given: the employee fills in the correction form
    client.force_login(org.employee.user)
    events = AuditEvent.objects.count()
    typed = {
        "day": "2026-11-23",
        "slot": "in1",
        "time_in1": "08:57",
        "category": "forgot",
        "reason": "考勤机死机，没能打上班卡 <b>",
    }

    # when: they send it
    response = client.post(
        "/requests/new/",
        typed,
        headers={
            "Accept-Language": "zh-hans",
            "Referer": "http://testserver/requests/new/?day=2026-11-23&slot=in1",
        },
    )

    # then: 503, the product's page (base layout, Chinese), each value shown back (escaped),
    # a way back to the form and a form that sends the same values again; nothing written
    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert [t.name for t in response.templates][:2] == ["maintenance.html", "base.html"]
    page = response.content.decode()
    assert "系统维护" in page
    assert "考勤机死机，没能打上班卡 &lt;b&gt;" in page
    assert (
        'href="http://testserver/requests/new/?day=2026-11-23&amp;slot=in1" data-history-back'
        in page
    )
    assert 'action="/requests/new/"' in page
    for name, value in typed.items():
        assert f'name="{name}" value="{value.replace("<", "&lt;").replace(">", "&gt;")}"' in page
    assert "csrfmiddlewaretoken" in page  # a fresh token, not the old one carried over
    assert 'src="/static/ztk/maintenance.js"' in page or "maintenance" in page
    assert CorrectionRequest.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_a_password_is_never_shown_back_nor_resent(client, org, maintenance):
    client.force_login(org.employee.user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "correct-horse-battery-9",
            "new_password1": "x-new-1",
            "new_password2": "x-new-1",
        },
    )
    assert response.status_code == 503
    page = response.content.decode()
    assert "correct-horse-battery-9" not in page and "x-new-1" not in page
    assert "Send again" not in page and "再次提交" not in page


def test_a_foreign_referer_is_not_offered_as_the_way_back(client, org, maintenance):
    client.force_login(org.employee.user)
    response = client.post(
        "/requests/new/", {"reason": "x"}, headers={"Referer": "https://evil.example/"}
    )
    assert 'href="/" data-history-back' in response.content.decode()


def test_the_preview_still_works(client, org, maintenance):
    """A preview computes, it does not save: allowed."""
    client.force_login(org.employee.user)
    response = client.post("/requests/preview/", {"day": "2026-11-23"})
    assert response.status_code != 503


def test_the_api_refuses_writes_with_json_and_retry_after(client, org, maintenance):
    client.force_login(org.hr.user)
    write = client.post("/api/v1/corrections", {}, content_type="application/json")
    assert write.status_code == 503
    assert write["Retry-After"] == "300"
    assert write.json()["code"] == "maintenance"
    assert client.get("/api/v1/me").status_code == 200


def test_terminals_come_back_later_and_no_punch_is_lost(client, org, settings):
    # given: an approved terminal, maintenance on
    make_device(group=org.group)
    settings.MAINTENANCE_MODE = True

    # when: the terminal uploads two punches
    refused = post(client, "ATTLOG", ATTLOG, Stamp="1")

    # then: told to come back (503, Retry-After, no "OK"), nothing stored
    assert refused.status_code == 503 and refused["Retry-After"] == "300"
    assert not refused.content.startswith(b"OK")
    assert client.get(f"/iclock/getrequest?SN={SERIAL}").status_code == 503
    assert Punch.objects.count() == 0

    # when: maintenance is over and the terminal sends the same records again
    settings.MAINTENANCE_MODE = False
    accepted = post(client, "ATTLOG", ATTLOG, Stamp="1")

    # then: both punches are stored
    assert accepted.status_code == 200 and accepted.content.startswith(b"OK: 2")
    assert Punch.objects.count() == 2


def test_writes_go_through_again_after_maintenance(client, org, settings):
    client.force_login(org.employee.user)
    settings.MAINTENANCE_MODE = False
    response = client.post("/requests/new/", {"reason": "x"})
    assert response.status_code != 503
