"""A request that ended without a correction says so (issue 12, the first week): what was
decided, by whom, when and why, the day as it is (not "if approved"), each step's end, and
the resubmit action for the employee."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from ztk.corrections.models import ChainPreset
from ztk.corrections.services import (
    correction_approve,
    correction_reject,
    correction_withdraw,
    corrections_cancel_for_period,
)

from .conftest import MON, only_checkout, submit
from .test_pages import find, find_all, page, set_preset

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    """A client signed in as `user`, reading English pages."""

    def sign_in(user):
        client.logout()
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return sign_in


@pytest.fixture
def monday(week):
    only_checkout(week.employee, MON)
    set_preset(week, ChainPreset.MULTI)  # supervisor, then HR
    return week


def detail(client, req) -> str:
    response = client.get(reverse("requests:detail", args=[req.pk]))
    assert response.status_code == 200
    return page(response)


def states(html: str) -> list[str]:
    return [li.text for li in find_all(html, "span", class_="step-state")]


def test_a_rejected_request_says_who_rejected_it_when_and_why(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    correction_reject(actor=monday.supervisor.user, request=req, reason="没有打卡记录证明")

    html = detail(as_user(monday.employee.user), req)

    outcome = find(html, "section", id="outcome")
    assert "Rejected" in outcome.text
    assert monday.supervisor.name in outcome.text
    assert "2026-11-25 10:00" in outcome.text
    assert "没有打卡记录证明" in outcome.text
    assert find(html, "a", href=reverse("requests:resubmit", args=[req.pk]))
    # the day as it is: no "if approved", no punch "filled by an approved correction"
    assert "The day if approved" not in html and "The day now" in html
    assert "approved correction punch" not in find(html, "div", id="preview").text
    assert find(html, "tr", data_slot="in1").has_class("slot-missing")
    # each step says how it ended: rejected at the first, the second never reached
    assert "—" not in " ".join(states(html))
    assert states(html) == ["rejected here", "not reached"]


def test_the_rejected_page_in_chinese_has_no_approved_wording(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    correction_reject(actor=monday.supervisor.user, request=req, reason="没有打卡记录证明")

    client = as_user(monday.employee.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    html = detail(client, req)

    assert "通过后当天的考勤" not in html and "已由批准的补卡" not in html
    assert "已驳回" in find(html, "section", id="outcome").text


def test_the_approver_sees_the_decision_but_no_resubmit(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    correction_reject(actor=monday.supervisor.user, request=req, reason="没有打卡记录证明")

    html = detail(as_user(monday.supervisor.user), req)

    assert "没有打卡记录证明" in find(html, "section", id="outcome").text
    assert not find_all(html, "a", href=reverse("requests:resubmit", args=[req.pk]))


def test_a_rejection_at_the_second_step_shows_the_first_approved(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    correction_approve(actor=monday.supervisor.user, request=req)
    correction_reject(actor=monday.hr.user, request=req, reason="超过本月次数")

    html = detail(as_user(monday.employee.user), req)

    assert states(html) == ["approved", "rejected here"]
    outcome = find(html, "section", id="outcome")
    assert monday.hr.name in outcome.text and "超过本月次数" in outcome.text


def test_a_withdrawn_request_says_it_was_withdrawn_by_whom(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    correction_withdraw(actor=monday.employee.user, request=req)

    html = detail(as_user(monday.employee.user), req)

    outcome = find(html, "section", id="outcome")
    assert "Withdrawn" in outcome.text and monday.employee.name in outcome.text
    assert "The day if approved" not in html
    assert states(html) == ["withdrawn at this step", "not reached"]
    assert not find_all(html, "a", href=reverse("requests:resubmit", args=[req.pk]))


def test_a_cancelled_request_gives_the_period_close_as_its_reason(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    corrections_cancel_for_period(
        actor=monday.hr.user,
        group=monday.group,
        period_start=date(2026, 11, 1),
        reason="11月已结账",
    )

    html = detail(as_user(monday.employee.user), req)

    outcome = find(html, "section", id="outcome")
    assert "Cancelled" in outcome.text and "11月已结账" in outcome.text
    assert "The day if approved" not in html
    assert states(html) == ["cancelled at this step", "not reached"]
