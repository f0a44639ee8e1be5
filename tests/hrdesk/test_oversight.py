"""Approvals oversight for HR: every pending request with its age, current step, approver
and SLA deadline, breaches first (longest overdue first); escalation reminds the approver
and tells their supervisor and HR, audited. HR only.

The week of Monday 23 November 2026 on a 09:00–18:00 shift, "now" Friday 27, 09:00:

    D  李四  Mon  submitted Mon 20:00  supervisor, 2 working days → due Thu 00:00 (overdue 33 h)
    B  李四  Tue  submitted Tue 19:00  supervisor, 2 working days → due Fri 00:00 (overdue 9 h)
    A  张三  Mon  submitted Mon 19:00  approved by the supervisor Thu 17:00 → HR, 1 day → Sat
    C  张三  Tue  submitted Wed 10:00  supervisor, 2 working days → due Sat 00:00
"""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.corrections.conftest import MON, SH, TUE, at, item, only_checkout, submit, week_for
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.corrections.services import correction_approve, correction_reject
from ztk.hrdesk import oversight
from ztk.notifications.models import Notification

pytestmark = pytest.mark.django_db

WED, THU, FRI = date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)
NOW = at(FRI, 9)
URL = "/hr/oversight/"


@pytest.fixture
def queue(org, categories, time_machine):
    """The four pending requests of the module docstring; the clock at Friday 09:00."""
    week_for(org)
    only_checkout(org.employee, MON, TUE)
    only_checkout(org.colleague, MON, TUE)
    time_machine.move_to(at(MON, 19), tick=False)
    (a,) = submit(org.employee.user, org.employee, item(MON))
    time_machine.move_to(at(MON, 20), tick=False)
    (d,) = submit(org.colleague.user, org.colleague, item(MON))
    time_machine.move_to(at(TUE, 19), tick=False)
    (b,) = submit(org.colleague.user, org.colleague, item(TUE))
    time_machine.move_to(at(WED, 10), tick=False)
    (c,) = submit(org.employee.user, org.employee, item(TUE))
    time_machine.move_to(at(THU, 17), tick=False)
    correction_approve(actor=org.supervisor.user, request=a)
    time_machine.move_to(NOW, tick=False)
    org.requests = {"A": a, "B": b, "C": c, "D": d}
    return org


def names(rows, org) -> list[str]:
    by_pk = {r.pk: name for name, r in org.requests.items()}
    return [by_pk[row.request.pk] for row in rows]


def inbox(user, kind="approval_escalated") -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind))


# --- the list ------------------------------------------------------------------------------


def test_breaches_come_first_longest_overdue_first(queue):
    rows = oversight.pending_oversight(now=NOW)
    assert names(rows, queue) == ["D", "B", "A", "C"]
    d, b, a, c = rows
    assert (d.overdue, b.overdue, a.overdue, c.overdue) == (True, True, False, False)
    assert d.deadline == datetime(2026, 11, 26, 0, 0, tzinfo=SH)
    assert d.overdue_by == timedelta(hours=33)
    assert b.deadline == datetime(2026, 11, 27, 0, 0, tzinfo=SH)
    assert a.deadline == c.deadline == datetime(2026, 11, 28, 0, 0, tzinfo=SH)
    assert a.overdue_by is None


def test_each_row_has_its_age_step_and_approver(queue):
    rows = {r.request.pk: r for r in oversight.pending_oversight(now=NOW)}
    a = rows[queue.requests["A"].pk]
    b = rows[queue.requests["B"].pk]
    assert a.age == NOW - at(MON, 19)
    assert (a.request.current_step, a.approver_kind, a.approvers) == (2, "hr", ["陈人事"])
    assert (b.request.current_step, b.approver_kind, b.approvers) == (1, "supervisor", ["李主管"])
    assert b.age == NOW - at(TUE, 19)


def test_decided_requests_leave_the_list_and_filters_apply(queue):
    correction_reject(actor=queue.supervisor.user, request=queue.requests["C"], reason="无记录")
    assert names(oversight.pending_oversight(now=NOW), queue) == ["D", "B", "A"]
    assert names(oversight.pending_oversight(now=NOW, overdue_only=True), queue) == ["D", "B"]
    other = factories.AttendanceGroupFactory(code="NIGHT")
    assert oversight.pending_oversight(now=NOW, group=other) == []


# --- escalation -----------------------------------------------------------------------------


def test_escalate_reminds_the_approver_and_tells_their_supervisor_and_hr(queue):
    org = queue
    second_hr = factories.EmployeeFactory(user=factories.UserFactory(username="hr2"))
    factories.add_to_group(second_hr.user, "hr")
    b = org.requests["B"]

    told = oversight.correction_escalate(actor=org.hr.user, request=b, note="今天下班前处理")

    assert told["approvers"] == [org.supervisor.user_id]
    assert set(told["notified"]) == {org.head.user_id, second_hr.user_id}
    (reminder,) = inbox(org.supervisor.user)
    assert f"#{b.pk}" in reminder.title and "今天下班前处理" in reminder.body
    (escalated,) = inbox(org.head.user)  # 李主管's own supervisor
    assert "李主管" in escalated.body and "李四" in escalated.body
    assert len(inbox(second_hr.user)) == 1
    assert inbox(org.hr.user) == []  # the one who escalated
    assert inbox(org.colleague.user) == []  # not the applicant
    event = AuditEvent.objects.get(action="corrections.request.escalate")
    assert event.object_id == str(b.pk) and event.actor_id == org.hr.user_id
    assert event.changes["step"] == 1 and event.changes["overdue"] is True
    assert event.changes["supervisors"] == [org.head.user_id]
    assert event.changes["note"] == "今天下班前处理"
    b.refresh_from_db()
    assert b.status == "pending" and b.current_step == 1  # escalation does not move it
    row = next(r for r in oversight.pending_oversight(now=NOW) if r.request.pk == b.pk)
    assert (row.last_escalated, row.escalations) == (NOW, 1)


def test_an_hr_step_reminds_hr(queue):
    """A's step is HR's: 陈人事 is reminded when another HR admin escalates it."""
    other_hr = factories.EmployeeFactory(user=factories.UserFactory(username="hr3"))
    factories.add_to_group(other_hr.user, "hr")
    told = oversight.correction_escalate(actor=other_hr.user, request=queue.requests["A"])
    assert told["approvers"] == [queue.hr.user_id]
    assert len(inbox(queue.hr.user)) == 1 and inbox(other_hr.user) == []


def test_a_step_is_not_escalated_twice_in_a_row(queue, time_machine):
    b = queue.requests["B"]
    oversight.correction_escalate(actor=queue.hr.user, request=b)
    with pytest.raises(DomainError) as excinfo:
        oversight.correction_escalate(actor=queue.hr.user, request=b)
    assert excinfo.value.code == oversight.ESCALATED_RECENTLY
    time_machine.move_to(NOW + oversight.ESCALATE_INTERVAL, tick=False)
    oversight.correction_escalate(actor=queue.hr.user, request=b)
    assert AuditEvent.objects.filter(action="corrections.request.escalate").count() == 2


def test_only_pending_requests_are_escalated(queue):
    c = queue.requests["C"]
    correction_reject(actor=queue.supervisor.user, request=c, reason="无记录")
    with pytest.raises(DomainError) as excinfo:
        oversight.correction_escalate(actor=queue.hr.user, request=c)
    assert excinfo.value.code == "not_pending"
    assert not AuditEvent.objects.filter(action="corrections.request.escalate").exists()


@pytest.mark.parametrize("who", ["employee", "supervisor", "head", "auditor", "sysadmin"])
def test_only_hr_escalates(queue, who):
    user = queue.sysadmin if who == "sysadmin" else getattr(queue, who).user
    with pytest.raises(PermissionDeniedError):
        oversight.correction_escalate(actor=user, request=queue.requests["B"])
    assert not Notification.objects.filter(kind="approval_escalated").exists()


# --- the page -----------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["employee", "supervisor", "head", "auditor", "sysadmin"])
def test_the_page_is_for_hr_only(queue, who):
    user = queue.sysadmin if who == "sysadmin" else getattr(queue, who).user
    client = client_for(user)
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}{queue.requests['B'].pk}/escalate/").status_code == 403


def test_the_page_lists_breaches_first_and_escalates(queue):
    client = client_for(queue.hr.user)
    with CaptureQueriesContext(connection) as listed:
        html = client.get(URL).content.decode()
    order = sorted(queue.requests, key=lambda n: html.index(f'id="pending-{queue.requests[n].pk}"'))
    assert order == ["D", "B", "A", "C"]
    assert "4 requests pending" in html and "2 past their deadline" in html
    assert "Overdue by 1\xa0day, 9\xa0hours" in html
    assert "李主管" in html and "陈人事" in html
    assert len(listed) <= 15  # a fixed number of queries, whatever the number of requests

    only = client.get(URL, {"overdue": "1"}).content.decode()
    assert f'id="pending-{queue.requests["A"].pk}"' not in only
    assert f'id="pending-{queue.requests["D"].pk}"' in only

    b = queue.requests["B"]
    done = client.post(
        f"{URL}{b.pk}/escalate/", {"note": "请尽快", "back": "overdue=1"}, follow=True
    )
    assert done.redirect_chain[-1][0] == f"{URL}?overdue=1"
    assert f"Request #{b.pk} escalated" in done.content.decode()
    again = client.post(f"{URL}{b.pk}/escalate/", follow=True).content.decode()
    assert "escalated at" in again
    assert client.post(f"{URL}999999/escalate/").status_code == 404


def test_the_query_count_does_not_grow_with_the_list(queue, time_machine):
    client = client_for(queue.hr.user)
    with CaptureQueriesContext(connection) as four:
        client.get(URL)
    time_machine.move_to(at(FRI, 8), tick=False)  # two more, on Friday morning
    only_checkout(queue.colleague, WED)
    only_checkout(queue.employee, WED)
    submit(queue.colleague.user, queue.colleague, item(WED))
    submit(queue.employee.user, queue.employee, item(WED))
    time_machine.move_to(NOW, tick=False)
    with CaptureQueriesContext(connection) as six:
        html = client.get(URL).content.decode()
    assert "6 requests pending" in html
    assert len(six) == len(four)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
def test_hr_escalates_on_a_phone(live_server, queue, client, monkeypatch):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    client.force_login(queue.hr.user)
    session = client.cookies["sessionid"].value
    shots = os.environ.get("ZTK_SCREENSHOTS")
    b = queue.requests["B"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 375, "height": 800}, locale="en")
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            page.goto(f"{live_server.url}{URL}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            if shots:
                page.screenshot(path=f"{shots}/oversight.png", full_page=True)
            card = page.locator(f"#pending-{b.pk}")
            card.locator("input[name=note]").fill("请今天处理")
            card.get_by_role("button", name="Escalate").click()
            page.wait_for_load_state()
            assert f"Request #{b.pk} escalated" in page.content()
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
        finally:
            browser.close()
    assert len(inbox(queue.supervisor.user)) == 1
