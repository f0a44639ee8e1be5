"""Early warnings over real rows: each condition fires once per period (a second run sends
nothing), not for an unrelated person, and reaches HR and the right head.

The org: 研发部 (head 王部长) with 李主管 supervising 张三 and 李四; 赵六, HR (陈人事) and the
auditor (周审计) in 销售部 (no head). The week of Monday 23 November 2026, 09:00–18:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.corrections.conftest import at, item, only_checkout, submit, week_for
from ztk.attendance.models import AttendanceDay
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.devices.models import Device, DeviceStatus
from ztk.notifications.models import Notification
from ztk.oversight import services, warning_services
from ztk.oversight.models import EarlyWarning, WarningState

pytestmark = pytest.mark.django_db

MON, TUE = date(2026, 11, 23), date(2026, 11, 24)
NOW = at(date(2026, 11, 25), 10)  # Wednesday 10:00 (Shanghai)


def told(kind: str) -> set[str]:
    return {
        n.recipient.username
        for n in Notification.objects.filter(kind="oversight_warning", data__kind=kind)
    }


@pytest.fixture
def corrected(org, categories, time_machine):
    """张三 filed two corrections (the limit is 3): one left."""
    week_for(org)
    time_machine.move_to(NOW, tick=False)
    only_checkout(org.employee, MON, TUE)
    org.requests = submit(org.employee.user, org.employee, item(MON), item(TUE))
    return org


def test_close_to_the_limit_warns_hr_and_his_head_once(corrected):
    result = warning_services.warnings_run(actor=None)

    (warning,) = EarlyWarning.objects.filter(kind="close_to_limit")
    assert warning.employee == corrected.employee
    assert warning.params == {"used": 2, "limit": 3, "left": 1}
    assert warning.head == corrected.head
    assert (warning.period_start, warning.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert {e["id"] for e in warning.evidence} == {r.pk for r in corrected.requests}
    assert told("close_to_limit") == {"hr", "head"}
    note = Notification.objects.filter(recipient=corrected.head.user).get()
    assert note.url == f"/hr/oversight/warnings/{warning.pk}/"
    assert "张三" in note.title
    assert result.raised >= 1
    assert AuditEvent.objects.filter(action="oversight.warnings.run").count() == 1

    again = warning_services.warnings_run(actor=None)

    assert again.raised == 0 and again.sent == 0
    assert EarlyWarning.objects.filter(kind="close_to_limit").count() == 1
    assert Notification.objects.filter(kind="oversight_warning").count() == 2
    assert AuditEvent.objects.filter(action="oversight.warnings.run").count() == 1


def test_nobody_else_is_warned_about(corrected):
    warning_services.warnings_run(actor=None)
    subjects = set(
        EarlyWarning.objects.filter(kind="close_to_limit").values_list("employee", flat=True)
    )
    assert subjects == {corrected.employee.pk}


def test_the_next_period_warns_again(corrected, time_machine):
    warning_services.warnings_run(actor=None)
    # December: 张三 files two more
    time_machine.move_to(at(date(2026, 12, 3), 10), tick=False)
    only_checkout(corrected.employee, date(2026, 12, 1), date(2026, 12, 2))
    submit(
        corrected.employee.user,
        corrected.employee,
        item(date(2026, 12, 1)),
        item(date(2026, 12, 2)),
    )
    warning_services.warnings_run(actor=None)
    keys = sorted(EarlyWarning.objects.filter(kind="close_to_limit").values_list("key", flat=True))
    assert keys == [
        f"close_to_limit:e{corrected.employee.pk}:2026-11-01",
        f"close_to_limit:e{corrected.employee.pk}:2026-12-01",
    ]


def test_overdue_steps_piling_up_warn_hr_and_the_approvers_head(corrected, time_machine):
    services.thresholds_update(actor=corrected.hr.user, values={"warn_overdue_min": 2})
    # the supervisor's two steps were due at the end of the second working day (Friday)
    time_machine.move_to(at(date(2026, 11, 30), 10), tick=False)  # Monday

    warning_services.warnings_run(actor=None)

    (warning,) = EarlyWarning.objects.filter(kind="overdue_pileup")
    assert warning.user == corrected.supervisor.user
    assert warning.params["overdue"] == 2
    assert warning.head == corrected.head
    assert told("overdue_pileup") == {"hr", "head"}  # not the approver himself
    assert {e["id"] for e in warning.evidence} == {r.pk for r in corrected.requests}
    assert warning.period_start == date(2026, 11, 30)


def days(employee, status: str, first: date, n: int) -> None:
    AttendanceDay.objects.bulk_create(
        AttendanceDay(
            employee=employee,
            day=first + timedelta(days=i),
            kind="work",
            status=status,
            computed_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        for i in range(n)
    )


def test_a_department_whose_anomalies_jump_warns_its_head(org, time_machine):
    time_machine.move_to(NOW, tick=False)
    # 研发部: four weeks with 1 anomaly in 28 days each, then 6 in the last 7 days
    start = date(2026, 10, 21)  # the first of 35 days up to yesterday (24 Nov)
    for employee in (org.employee, org.colleague, org.supervisor, org.head):
        days(employee, "normal", start, 28)
    AttendanceDay.objects.filter(
        employee=org.employee, day__in=[start + timedelta(days=7 * w) for w in range(4)]
    ).update(status="abnormal")
    recent = date(2026, 11, 18)
    days(org.employee, "abnormal", recent, 3)
    days(org.colleague, "absent", recent, 3)
    days(org.supervisor, "normal", recent, 7)
    days(org.head, "normal", recent, 7)
    # 销售部 stays as it always was: one anomaly a week
    days(org.stranger, "normal", start, 35)
    AttendanceDay.objects.filter(
        employee=org.stranger, day__in=[start + timedelta(days=7 * w + 1) for w in range(5)]
    ).update(status="abnormal")

    warning_services.warnings_run(actor=None)

    (warning,) = EarlyWarning.objects.filter(kind="department_jump")
    assert warning.department == org.department
    assert warning.head == org.head
    assert warning.params["anomalies"] == 6
    assert (warning.period_start, warning.period_end) == (MON, date(2026, 11, 29))
    assert len(warning.evidence) == 6 and {e["kind"] for e in warning.evidence} == {"day"}
    assert told("department_jump") == {"hr", "head"}
    warning_services.warnings_run(actor=None)
    assert EarlyWarning.objects.filter(kind="department_jump").count() == 1


def test_a_silent_terminal_warns_hr_once_a_day(org, time_machine, settings):
    settings.DEVICE_SILENT_MINUTES = 30
    working = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
    Device.objects.create(
        serial="QUIET0001",
        status=DeviceStatus.APPROVED,
        attendance_group=org.group,
        last_seen=working - timedelta(hours=2),
    )
    Device.objects.create(
        serial="LIVE0001",
        status=DeviceStatus.APPROVED,
        attendance_group=org.group,
        last_seen=working - timedelta(minutes=5),
    )
    time_machine.move_to(working, tick=False)

    warning_services.warnings_run(actor=None)
    time_machine.move_to(working + timedelta(minutes=10), tick=False)
    warning_services.warnings_run(actor=None)

    (warning,) = EarlyWarning.objects.filter(kind="silent_terminal")
    assert warning.device.serial == "QUIET0001"
    assert warning.period_start == date(2026, 12, 1)
    assert told("silent_terminal") == {"hr"}
    assert warning.evidence[0]["kind"] == "device"


# --- resolve and close ----------------------------------------------------------------------


def test_the_head_resolves_and_the_employee_may_not(corrected):
    warning_services.warnings_run(actor=None)
    warning = EarlyWarning.objects.get(kind="close_to_limit")
    with pytest.raises(PermissionDeniedError):
        warning_services.warning_resolve(actor=corrected.employee.user, warning=warning)
    with pytest.raises(PermissionDeniedError):
        warning_services.warning_resolve(actor=corrected.stranger.user, warning=warning)

    warning_services.warning_resolve(actor=corrected.head.user, warning=warning, note="谈过了")

    warning.refresh_from_db()
    assert (warning.state, warning.note, warning.handled_by) == (
        WarningState.RESOLVED,
        "谈过了",
        corrected.head.user,
    )
    event = AuditEvent.objects.get(action="oversight.warning.resolve")
    assert event.changes["after"]["state"] == "resolved"
    with pytest.raises(DomainError) as refused:
        warning_services.warning_close(actor=corrected.hr.user, warning=warning, note="再关一次")
    assert refused.value.code == "warning_not_open"


def test_closing_needs_a_note(corrected):
    warning_services.warnings_run(actor=None)
    warning = EarlyWarning.objects.get(kind="close_to_limit")
    with pytest.raises(DomainError) as refused:
        warning_services.warning_close(actor=corrected.auditor.user, warning=warning, note=" ")
    assert refused.value.code == "note_required"
    warning_services.warning_close(actor=corrected.auditor.user, warning=warning, note="已放宽限额")
    assert AuditEvent.objects.filter(action="oversight.warning.close").count() == 1


def test_only_hr_and_auditors_run_it_by_hand(corrected):
    with pytest.raises(PermissionDeniedError):
        warning_services.warnings_run(actor=corrected.head.user)
    warning_services.warnings_run(actor=corrected.auditor.user)


# --- pages and API --------------------------------------------------------------------------


def test_the_pages_show_hr_everything_and_a_head_only_theirs(corrected, client):
    corrected.stranger.department.head = corrected.stranger  # 赵六 heads 销售部
    corrected.stranger.department.save()
    warning_services.warnings_run(actor=None)
    warning = EarlyWarning.objects.get(kind="close_to_limit")

    client.force_login(corrected.hr.user)
    page = client.get("/hr/oversight/warnings/").content.decode()
    assert f'id="warning-{warning.pk}"' in page and "张三" in page
    detail = client.get(f"/hr/oversight/warnings/{warning.pk}/").content.decode()
    assert f"/requests/{corrected.requests[0].pk}/" in detail  # the evidence links

    client.force_login(corrected.head.user)
    assert f'id="warning-{warning.pk}"' in client.get("/hr/oversight/warnings/").content.decode()
    response = client.post(f"/hr/oversight/warnings/{warning.pk}/resolve/", {"note": "已提醒"})
    assert response.status_code == 302

    client.force_login(corrected.stranger.user)  # another department's head
    assert (
        f'id="warning-{warning.pk}"'
        not in client.get("/hr/oversight/warnings/?state=all").content.decode()
    )
    assert client.get(f"/hr/oversight/warnings/{warning.pk}/").status_code == 404


def test_closing_without_a_note_shows_the_refusal(corrected, client):
    warning_services.warnings_run(actor=None)
    warning = EarlyWarning.objects.get(kind="close_to_limit")
    client.force_login(corrected.auditor.user)
    response = client.post(f"/hr/oversight/warnings/{warning.pk}/close/", {"note": ""})
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()


def test_the_api_lists_the_warnings_a_head_may_see(corrected, client):
    warning_services.warnings_run(actor=None)
    client.force_login(corrected.head.user)
    reply = client.get("/api/v1/oversight/warnings", {"kind": "close_to_limit"})
    assert reply.status_code == 200
    (item,) = reply.json()["items"]
    assert item["kind"] == "close_to_limit" and item["employee"]["employee_no"] == "1002"
    assert item["head"]["employee_no"] == "1000"
    assert item["params"] == {"used": 2, "limit": 3, "left": 1}
    assert item["url"].startswith("/hr/oversight/warnings/")


def test_the_api_names_every_condition():
    from typing import get_args

    from ztk.api.oversight import WarningCode
    from ztk.oversight import warning_checks

    assert set(get_args(WarningCode)) == set(warning_checks.KINDS)
