"""The approver's one inbox (审批): every request type in one list, overdue first, a type
filter, and the batch approval across types through each type's own service."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.corrections.conftest import MON, NOW, TUE, WED, at, item, only_checkout, submit, week_for
from tests.leave.conftest import THU, grant, leave
from ztk.corrections.models import CorrectionPolicy, CorrectionRequest, ReasonCategory
from ztk.leave.models import AbsenceRequest
from ztk.overtime import services as overtime
from ztk.overtime.models import OvertimeRequest

pytestmark = pytest.mark.django_db
INBOX = "/requests/inbox/"


@pytest.fixture
def week(org, time_machine):
    """The corrections' 09:00–18:00 week, on Wednesday morning, with the reason categories."""
    time_machine.move_to(NOW, tick=False)
    ReasonCategory.objects.get_or_create(policy=None, code="forgot",
                                         defaults={"name": "忘记打卡", "order": 10})  # fmt: skip
    return week_for(org)


def overtime_on(org, day, hh=18, employee=None):
    employee = employee or org.employee
    return overtime.overtime_submit(
        actor=employee.user, employee=employee, start=at(day, hh), end=at(day, hh + 2),
        reason="赶项目上线",
    )  # fmt: skip


def one_of_each(org):
    only_checkout(org.employee, MON)
    (correction,) = submit(org.employee.user, org.employee, item(MON))
    grant(org.employee, "10")
    absence = leave(org.employee, THU)
    ot = overtime_on(org, TUE)
    return correction, absence, ot


def keys_in(html: str) -> list[str]:
    """The rows of the list in their order: corrections by id, others by type:id."""
    found = re.findall(r'data-(?:request|key)="([^"]+)"', html)
    return [k if ":" in k else f"corrections:{k}" for k in found]


def test_one_list_of_every_type_overdue_first(client, week):
    org = week
    correction, absence, ot = one_of_each(org)
    OvertimeRequest.objects.filter(pk=ot.pk).update(step_started_at=NOW - timedelta(days=10))
    client.force_login(org.supervisor.user)
    html = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    rows = keys_in(html)
    assert set(rows) == {f"corrections:{correction.pk}", f"absences:{absence.pk}",
                         f"overtime:{ot.pk}"}  # fmt: skip
    assert rows[0] == f"overtime:{ot.pk}"  # overdue first
    assert '<b class="count" id="waiting-count">3</b>' in html
    assert "Overdue" in html and "Overtime" in html and "Correction (补卡)" in html
    # the type filter
    only_ot = keys_in(client.get(INBOX + "?type=overtime").content.decode())
    assert only_ot == [f"overtime:{ot.pk}"]
    only_leave = keys_in(client.get(INBOX + "?type=leave").content.decode())
    assert only_leave == [f"absences:{absence.pk}"]
    only_corr = keys_in(client.get(INBOX + "?type=correction").content.decode())
    assert only_corr == [f"corrections:{correction.pk}"]


def test_cancellations_are_marked_and_filterable(client, week):
    org = week
    ot = overtime_on(org, TUE)
    ot = overtime.overtime_approve(actor=org.supervisor.user, request=ot)
    ot = overtime.overtime_approve(actor=org.hr.user, request=ot)
    cancel = overtime.overtime_cancel(actor=org.employee.user, request=ot, reason="客户取消")
    overtime_on(org, WED)
    client.force_login(org.supervisor.user)
    html = client.get(INBOX + "?type=cancellation", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert keys_in(html) == [f"overtime:{cancel.pk}"]
    assert "Cancellation (撤销/销假)" in html


def test_batch_approves_every_type_through_its_service(client, week):
    org = week
    correction, absence, ot = one_of_each(org)
    client.force_login(org.supervisor.user)
    reply = client.post(
        "/requests/inbox/approve/",
        {"ids": [correction.pk], "pick": [f"absences:{absence.pk}", f"overtime:{ot.pk}"]},
    )
    assert reply.status_code == 302
    # each moved on to its next step (HR) through its own service, trail and all
    correction.refresh_from_db(), absence.refresh_from_db(), ot.refresh_from_db()
    assert (correction.current_kind, absence.current_kind, ot.current_kind) == ("hr",) * 3
    assert ot.actions.filter(action="approve", actor=org.supervisor.user).exists()
    assert absence.actions.filter(action="approve", actor=org.supervisor.user).exists()


def test_batch_is_all_or_nothing_across_types(client, week):
    org = week
    correction, absence, ot = one_of_each(org)
    client.force_login(org.supervisor.user)
    overtime.overtime_withdraw(actor=org.employee.user, request=ot)  # no longer waiting
    reply = client.post(
        "/requests/inbox/approve/",
        {"ids": [correction.pk], "pick": [f"absences:{absence.pk}", f"overtime:{ot.pk}"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert reply.status_code == 422
    assert "no longer waiting for you" in reply.content.decode()
    correction.refresh_from_db(), absence.refresh_from_db()
    assert (correction.current_step, absence.current_step) == (1, 1)  # nothing approved


def test_batch_keeps_each_types_permission_checks(client, week):
    org = week
    _correction, absence, ot = one_of_each(org)
    client.force_login(org.colleague.user)  # neither approver nor delegate
    reply = client.post(
        "/requests/inbox/approve/", {"pick": [f"absences:{absence.pk}", f"overtime:{ot.pk}"]}
    )
    assert reply.status_code == 422
    absence.refresh_from_db(), ot.refresh_from_db()
    assert absence.current_step == 1 and ot.current_step == 1
    client.force_login(org.hr.user)  # HR decides step 2, not the supervisor's step 1
    reply = client.post("/requests/inbox/approve/", {"pick": [f"overtime:{ot.pk}"]})
    assert reply.status_code == 422
    ot.refresh_from_db()
    assert ot.current_step == 1


def _queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        reply = client.get(INBOX)
    assert reply.status_code == 200
    return len(queries), reply.content.decode()


def test_the_inbox_takes_a_fixed_number_of_queries_whatever_the_rows(client, week):
    org = week
    one_of_each(org)
    client.force_login(org.supervisor.user)
    few, html = _queries(client)
    assert len(keys_in(html)) == 3

    CorrectionPolicy.objects.update_or_create(
        group=org.group, defaults={"window_days": 10, "monthly_limit": 0}
    )
    earlier = WED - timedelta(days=5)  # last Friday
    only_checkout(org.employee, TUE, earlier)
    submit(org.employee.user, org.employee, item(TUE))
    submit(org.employee.user, org.employee, item(earlier))
    only_checkout(org.colleague, MON)
    submit(org.colleague.user, org.colleague, item(MON))
    grant(org.colleague, "10")
    leave(org.colleague, THU)
    leave(org.employee, THU + timedelta(days=1))
    for hh in (6, 20):
        overtime_on(org, MON, hh)
    overtime_on(org, TUE, employee=org.colleague)
    many, html = _queries(client)
    assert len(keys_in(html)) == 3 + 3 + 2 + 3
    assert many == few, (few, many)
    assert CorrectionRequest.objects.count() == 4 and AbsenceRequest.objects.count() == 3
