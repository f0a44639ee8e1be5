"""The overtime pages without a browser: the one inbox, the form's refusals, the day card."""

from __future__ import annotations

import pytest

from tests.factories import User
from ztk.overtime.models import OvertimeRequest

from .conftest import MON, SAT, at, punch
from .test_flows import submit

pytestmark = pytest.mark.django_db


def signed_in(client, username):
    client.force_login(User.objects.get(username=username))
    return client


def test_the_approval_inbox_lists_the_overtime_waiting(client, week):
    org = week
    req = submit(org, at(MON, 18), at(MON, 20))
    page = signed_in(client, "manager").get("/requests/inbox/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert f'data-key="overtime:{req.pk}"' in html
    assert f'href="/overtime/{req.pk}/"' in html
    assert '<b class="count" id="waiting-count">1</b>' in html


def test_the_day_page_offers_overtime_with_what_was_computed(client, week):
    org = week
    punch(org.employee, at(SAT, 9), at(SAT, 12))
    page = signed_in(client, "employee").get(f"/attendance/day/{SAT.isoformat()}/")
    html = page.content.decode()
    assert 'id="day-overtime"' in html
    assert f'href="/overtime/new/?day={SAT.isoformat()}"' in html
    assert "180" in html


def test_a_refused_form_says_why_and_keeps_what_was_typed(client, week):
    org = week
    submit(org, at(MON, 18), at(MON, 20))
    reply = signed_in(client, "employee").post(
        "/overtime/new/",
        {"day": MON.isoformat(), "start": "19:00", "end": "21:00", "reason": "还要加班"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert reply.status_code == 422
    html = reply.content.decode()
    assert "This overlaps overtime request" in html
    assert "还要加班" in html
    assert OvertimeRequest.objects.count() == 1


def test_an_end_before_the_start_is_the_next_day(client, week):
    reply = signed_in(client, "employee").post(
        "/overtime/new/",
        {"day": MON.isoformat(), "start": "22:00", "end": "01:00", "reason": "夜间上线"},
    )
    assert reply.status_code == 302
    req = OvertimeRequest.objects.get()
    assert (req.start, req.end, req.minutes) == (at(MON, 22), at(MON.replace(day=24), 1), 180)
