"""Input abuse: the examples of issue 10 (items 4 and 12), each a request a person or a
script can send, and each answered with a clear refusal instead of a 500.

NUL (PostgreSQL refuses it in text), other control characters, lone surrogates, the
right-to-left override, impossible dates, integers beyond 64 bits, datetimes that
overflow when converted to UTC, and bodies over DATA_UPLOAD_MAX_MEMORY_SIZE.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.corrections.conftest import MON, at, item, only_checkout, submit
from ztk.accounts.services import api_key_create
from ztk.corrections.models import ActionKind, ApprovalAction, Status
from ztk.punches.models import Punch

pytestmark = pytest.mark.django_db

NUL = "\x00"
RLO = "\u202e"


def _login(user) -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def pending(week):
    """The employee's pending correction of Monday's missing check-in, waiting for the
    supervisor."""
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee, item())
    return req


# --------------------------------------------------------------------------- NUL in web forms


@pytest.mark.parametrize("bad", [NUL, RLO, "\x1b[31m"])
def test_reject_reason_with_a_forbidden_character_is_refused_by_the_form(week, pending, bad):
    client = _login(week.supervisor.user)
    typed = f"不符合规定{bad}请重新提交"
    response = client.post(f"/requests/{pending.pk}/reject/", {"reason": typed})
    assert response.status_code == 422
    body = response.content.decode()
    assert "contains a character that is not allowed" in body
    assert "不符合规定" in body  # what was typed is still in the form
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_comment_with_nul_is_refused_and_nothing_is_added(week, pending):
    client = _login(week.employee.user)
    before = ApprovalAction.objects.count()
    response = client.post(f"/requests/{pending.pk}/comment/", {"comment": f"a{NUL}b"})
    assert response.status_code == 422
    assert "U+0000" in response.content.decode()
    assert ApprovalAction.objects.count() == before


def test_hr_manual_punch_remark_with_nul_is_refused(week):
    only_checkout(week.employee, MON)
    client = _login(week.hr.user)
    response = client.post(
        "/hr/manual/add/",
        {
            "employee": week.employee.employee_no,
            "day": MON.isoformat(),
            "slot": "in1",
            "time_in1": "09:00",
            "remark": f"设备故障{NUL}补录",
        },
    )
    assert response.status_code == 422
    assert "U+0000" in response.content.decode()
    assert not Punch.objects.filter(source="manual").exists()


@pytest.mark.parametrize(
    "url",
    [
        "/attendance/team/?q=%00",
        "/attendance/lookup/?q=%00",
        "/hr/manual/?q=%00",
        "/hr/manual/search/?q=%00",
        "/requests/inbox/?view=all&q=%00",
        "/audit/?actor=%00",
        "/audit/?action=%E2%80%AE",
    ],
)
def test_search_filters_with_a_forbidden_character_get_a_clear_400(week, url):
    user = week.auditor.user if url.startswith("/audit/") else week.hr.user
    response = _login(user).get(url)
    assert response.status_code == 400
    assert "contains a character that is not allowed" in response.content.decode()


# --------------------------------------------------------------------------- the API


@pytest.fixture
def hr_key(week):
    return api_key_create(actor=week.hr.user, user=week.hr.user, name="abuse")[1]


def _api(key, method, path, body=None):
    client = Client(raise_request_exception=False)
    return client.generic(
        method,
        path,
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"},
    )


@pytest.mark.parametrize("remark", [f"x{NUL}y", f"x{RLO}y", "x\ud800y"])
def test_api_punch_remark_with_a_forbidden_character_is_422(week, hr_key, remark, clock):
    response = _api(
        hr_key,
        "POST",
        "/api/v1/punches",
        {"employee": week.employee.employee_no, "at": at(MON, 9).isoformat(), "remark": remark},
    )
    assert response.status_code == 422
    assert not Punch.objects.filter(remark__contains="x").exists()


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_api_punch_at_that_overflows_in_utc_is_422(week, hr_key, moment):
    response = _api(
        hr_key, "POST", "/api/v1/punches", {"employee": week.employee.employee_no, "at": moment}
    )
    assert response.status_code == 422
    assert response.json()["code"] in {"validation_error", "impossible_timestamp"}


# --------------------------------------------------------------------------- dates, integers


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31"])
def test_audit_filter_with_an_impossible_date_says_so(week, value):
    client = _login(week.auditor.user)
    response = client.get(f"/audit/?from={value}&to={value}")
    assert response.status_code == 200
    assert "is not a valid date" in response.content.decode()


def test_batch_approve_with_an_id_beyond_64_bits_is_refused_not_500(week, pending):
    client = _login(week.supervisor.user)
    response = client.post(
        "/requests/inbox/approve/", {"ids": ["99999999999999999999999", str(pending.pk)]}
    )
    # The id that cannot name a row is left out; the real one is approved (its step).
    assert response.status_code == 302
    assert ApprovalAction.objects.filter(
        request=pending, action=ActionKind.APPROVE, actor=week.supervisor.user
    ).exists()
