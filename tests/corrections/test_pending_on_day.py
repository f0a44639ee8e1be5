"""A correction under way is visible where the anomaly is shown (issue 12, the first week):
the day page and the month calendar say 审批中 with a link instead of offering 申请补卡
again, and the next day's missed-punch alert leaves such a slot alone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ztk.attendance.page_selectors import day_detail, month_calendar
from ztk.corrections.services import correction_reject
from ztk.notifications.missed_punch_alert import notify_missed_punches
from ztk.notifications.models import Notification, NotificationKind

from .conftest import MON, TUE, only_checkout, submit
from .test_pages import find, find_all, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def sign_in(user, language="en"):
        client.logout()
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        return client

    return sign_in


def test_the_day_page_shows_a_pending_slot_as_under_approval_with_its_link(week, as_user):
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    url = reverse("attendance:day", args=[MON.isoformat()])

    html = page(as_user(week.employee.user).get(url))

    link = find(html, "a", class_="slot-request")
    assert link.attrs["href"] == reverse("requests:detail", args=[req.pk])
    assert "Under approval" in link.text and f"#{req.pk}" in link.text
    assert not find_all(html, "a", class_="apply-link")  # no second request offered
    # in Chinese: 审批中
    assert (
        "审批中"
        in find(
            page(as_user(week.employee.user, "zh-hans").get(url)), "a", class_="slot-request"
        ).text
    )


def test_the_supervisor_sees_the_pending_slot_on_the_employees_day_too(week, as_user):
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    url = reverse("attendance:employee_day", args=[week.employee.employee_no, MON.isoformat()])

    html = page(as_user(week.supervisor.user).get(url))

    assert find(html, "a", class_="slot-request").attrs["href"] == reverse(
        "requests:detail", args=[req.pk]
    )
    assert not find_all(html, "a", class_="apply-link")


def test_a_rejected_request_offers_the_apply_button_again(week, as_user):
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    correction_reject(actor=week.supervisor.user, request=req, reason="没有证明")

    detail = day_detail(employee=week.employee, day=MON)

    assert [s.key for s in detail.missing_slots] == ["in1"]
    assert detail.slots[0].request is None


def test_the_month_calendar_marks_the_day_with_a_pending_request(week, as_user):
    only_checkout(week.employee, MON, TUE)
    submit(week.employee.user, week.employee)  # Monday only

    cal = month_calendar(employee=week.employee, year=2026, month=11)
    cells = {c.day: c for w in cal.weeks for c in w}
    assert cells[MON].pending and not cells[TUE].pending
    assert "is-pending" in cells[MON].css

    html = page(as_user(week.employee.user).get(reverse("attendance:home") + "?month=2026-11"))
    monday = find(html, "a", href=reverse("attendance:day", args=[MON.isoformat()]))
    assert "Under approval" in monday.text
    assert "correction under approval" in monday.attrs["aria-label"]
    tuesday = find(html, "a", href=reverse("attendance:day", args=[TUE.isoformat()]))
    assert "Under approval" not in tuesday.text


def test_no_missed_punch_alert_for_a_slot_with_a_pending_request(week):
    only_checkout(week.employee, MON)
    only_checkout(week.colleague, MON)
    submit(week.employee.user, week.employee)  # 张三 already asked for his check-in

    assert notify_missed_punches(day=MON) == 1

    alerts = Notification.objects.filter(kind=NotificationKind.MISSED_PUNCH)
    assert [n.recipient_id for n in alerts] == [week.colleague.user_id]


def test_a_rejected_request_does_not_silence_the_alert(week):
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    correction_reject(actor=week.supervisor.user, request=req, reason="没有证明")

    assert notify_missed_punches(day=MON) == 1
    [alert] = Notification.objects.filter(kind=NotificationKind.MISSED_PUNCH)
    assert alert.recipient_id == week.employee.user_id and alert.data["slots"] == ["in1"]
