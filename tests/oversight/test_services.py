"""The findings run over real rows, and handling a finding (who may, what is audited).

The week of Monday 23 November 2026 on 09:00–18:00; it is Wednesday 25, 10:00. 张三 and
李四 punched out on terminal SN1 three seconds apart on Friday, Monday and Tuesday (and
never in). 张三 filed two corrections, his supervisor approved both at once.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.corrections.conftest import MON, TUE, at, item, only_checkout, submit, week_for
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.corrections.services import correction_approve
from ztk.oversight import selectors, services
from ztk.oversight.models import Finding, State
from ztk.punches.services import PunchInput, record_punches

pytestmark = pytest.mark.django_db

FRI = date(2026, 11, 20)
NOW = at(date(2026, 11, 25), 10)


@pytest.fixture
def month(org, categories, time_machine):
    week_for(org)
    time_machine.move_to(NOW, tick=False)
    only_checkout(org.employee, FRI, MON, TUE)
    record_punches(
        [
            PunchInput(
                at=at(day, 18, 2) + timedelta(seconds=3),
                source="device",
                employee_id=org.colleague.pk,
                device_sn="SN1",
                pin=org.colleague.employee_no,
            )
            for day in (FRI, MON, TUE)
        ]
    )
    services.thresholds_update(
        actor=org.hr.user,
        values={"corrector_min_count": 2, "approver_min_decisions": 2},
    )
    first, second = submit(org.employee.user, org.employee, item(MON), item(TUE))
    correction_approve(actor=org.supervisor.user, request=first)
    correction_approve(actor=org.supervisor.user, request=second)
    org.requests = [first, second]
    return org


def found(org) -> dict[str, Finding]:
    return {f.rule: f for f in Finding.objects.all()}


def test_run_finds_the_corrector_the_approver_and_the_pair(month):
    # when
    result = services.findings_run(actor=month.hr.user)

    # then
    findings = found(month)
    assert set(findings) == {"frequent_corrector", "rubber_stamp", "buddy_punch"}
    assert result.created == 3
    corrector = findings["frequent_corrector"]
    assert corrector.employee == month.employee
    assert corrector.params["count"] == 2
    assert {e["id"] for e in corrector.evidence} == {r.pk for r in month.requests}
    assert (corrector.period_start, corrector.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
    approver = findings["rubber_stamp"]
    assert approver.user == month.supervisor.user
    assert approver.params["triggers"] == ["fast"]
    assert approver.params["approval_rate"] == 1.0
    pair = findings["buddy_punch"]
    assert {pair.employee, pair.other_employee} == {month.employee, month.colleague}
    assert pair.params["days"] == 3
    assert pair.params["places"] == ["device:SN1"]
    event = AuditEvent.objects.get(action="oversight.findings.run")
    assert event.actor_id == month.hr.user.pk
    assert event.changes["created"] == 3


def test_a_rerun_updates_instead_of_duplicating_and_keeps_the_state(month):
    services.findings_run(actor=None)
    pair = found(month)["buddy_punch"]
    services.finding_acknowledge(actor=month.auditor.user, finding=pair, note="已约谈")

    result = services.findings_run(actor=None)

    assert (result.created, result.updated) == (0, 3)
    assert Finding.objects.count() == 3
    pair.refresh_from_db()
    assert pair.state == State.ACKNOWLEDGED
    assert pair.note == "已约谈"


def test_the_run_reads_a_few_queries_whatever_the_number_of_people(month):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            services.findings_run(actor=None)
        return len(captured)

    few = queries()
    # ten more people punching on the terminal every day, and filing nothing
    more = [
        factories.EmployeeFactory(employee_no=f"50{n:02d}", attendance_group=month.group)
        for n in range(10)
    ]
    record_punches(
        [
            PunchInput(
                at=at(day, 8, 30) + timedelta(minutes=n),
                source="device",
                employee_id=e.pk,
                device_sn="SN1",
                pin=e.employee_no,
            )
            for n, e in enumerate(more)
            for day in (FRI, MON, TUE)
        ]
    )

    assert queries() == few <= 40  # the same few queries, whoever is added


def test_only_hr_and_auditors_run_the_rules(month):
    with pytest.raises(PermissionDeniedError):
        services.findings_run(actor=month.supervisor.user)
    assert not Finding.objects.exists()


def test_dismiss_needs_a_note_and_is_audited(month):
    services.findings_run(actor=None)
    corrector = found(month)["frequent_corrector"]

    with pytest.raises(DomainError) as refused:
        services.finding_dismiss(actor=month.auditor.user, finding=corrector, note=" ")
    assert refused.value.code == "note_required"
    corrector.refresh_from_db()
    assert corrector.state == State.OPEN

    services.finding_dismiss(actor=month.auditor.user, finding=corrector, note="设备故障属实")

    corrector.refresh_from_db()
    assert (corrector.state, corrector.handled_by) == (State.DISMISSED, month.auditor.user)
    event = AuditEvent.objects.get(action="oversight.finding.dismiss")
    assert event.changes["after"] == {"state": "dismissed", "note": "设备故障属实"}
    with pytest.raises(DomainError) as again:
        services.finding_acknowledge(actor=month.auditor.user, finding=corrector)
    assert again.value.code == "finding_not_open"


def test_who_may_handle_which_finding(month):
    services.findings_run(actor=None)
    findings = found(month)
    corrector, approver = findings["frequent_corrector"], findings["rubber_stamp"]

    # the supervisor may not handle a finding (and not his own)
    with pytest.raises(PermissionDeniedError):
        services.finding_acknowledge(actor=month.supervisor.user, finding=approver)
    # the employee may not close his own
    with pytest.raises(PermissionDeniedError):
        services.finding_dismiss(actor=month.employee.user, finding=corrector, note="不是我")
    # HR may
    services.finding_acknowledge(actor=month.hr.user, finding=corrector, note="")
    corrector.refresh_from_db()
    assert corrector.state == State.ACKNOWLEDGED


def test_hr_may_not_handle_hr_activity_findings(month):
    finding = Finding.objects.create(
        rule="hr_activity",
        key="hr_activity:u1:2026-11-01",
        severity="high",
        user=month.sysadmin,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        first_found_at=NOW,
        last_found_at=NOW,
    )
    with pytest.raises(PermissionDeniedError):
        services.finding_acknowledge(actor=month.hr.user, finding=finding)
    services.finding_acknowledge(actor=month.auditor.user, finding=finding, note="已核实")


def test_thresholds_are_validated_and_only_hr_changes_them(org):
    with pytest.raises(PermissionDeniedError):
        services.thresholds_update(actor=org.auditor.user, values={"buddy_min_days": 5})
    with pytest.raises(DomainError) as refused:
        services.thresholds_update(
            actor=org.hr.user, values={"buddy_min_days": 5, "approver_rate": 1.5}
        )
    assert refused.value.code == "invalid_thresholds"
    assert selectors.thresholds().buddy_min_days == 3  # nothing half-written

    services.thresholds_update(actor=org.hr.user, values={"buddy_min_days": 5})

    assert selectors.thresholds().as_limits().buddy_min_days == 5
    event = AuditEvent.objects.filter(action="oversight.thresholds.update").latest("seq")
    assert event.changes == {"before": {"buddy_min_days": 3}, "after": {"buddy_min_days": 5}}
