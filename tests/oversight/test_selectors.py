"""The rows the rules read, from real data: web punches' IP addresses (buddy punching from
one phone or PC), HR's manual adds for their own team, reopenings and changes at night,
approvals of requests without the proof their category requires, deadlines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from tests.corrections.conftest import MON, at, item, only_checkout, submit, week_for
from ztk.audit.services import record
from ztk.core.context import RequestInfo, current_request
from ztk.corrections.models import ReasonCategory
from ztk.corrections.services import correction_approve
from ztk.oversight import selectors, services
from ztk.oversight.models import Finding
from ztk.punches.services import PunchInput, record_punches, web_punch

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = at(date(2026, 11, 25), 10)
NOV = [(date(2026, 11, 1), date(2026, 11, 30))]


def test_web_punches_from_one_address_make_a_buddy_pair(org, time_machine):
    # 张三 and 李四 punch from the same address (10.0.0.7) three mornings, 3 s apart;
    # 赵六 punches right after them, from another address
    for day in (date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)):
        for employee, second, ip in (
            (org.employee, 10, "10.0.0.7"),
            (org.colleague, 13, "10.0.0.7"),
            (org.stranger, 14, "10.0.0.9"),
        ):
            time_machine.move_to(datetime.combine(day, time(8, 41, second), tzinfo=SH))
            token = current_request.set(RequestInfo(ip=ip, user=employee.user))
            try:
                web_punch(actor=employee.user, latitude=None, longitude=None)
            finally:
                current_request.reset(token)
    time_machine.move_to(NOW, tick=False)

    rows = selectors.punch_rows(NOV)
    services.findings_run(actor=None)

    assert {r.place for r in rows} == {"ip:10.0.0.7", "ip:10.0.0.9"}
    (pair,) = Finding.objects.filter(rule="buddy_punch")
    assert {pair.employee, pair.other_employee} == {org.employee, org.colleague}
    assert pair.params["places"] == ["ip:10.0.0.7"]


def test_hr_activity_from_manual_adds_reopenings_and_night_work(org, time_machine):
    # HR (陈人事) supervises 赵六: adding a punch for him is adding to their own team
    org.stranger.supervisor = org.hr
    org.stranger.save()
    time_machine.move_to(at(date(2026, 11, 24), 22), tick=False)  # Tuesday, 22:00
    record_punches(
        [
            PunchInput(at=at(date(2026, 11, 24), 9), source="manual", employee_id=pk)
            for pk in (org.stranger.pk, org.employee.pk)
        ],
        actor=org.hr.user,
        audit_action="punches.manual_add",
    )
    with transaction.atomic():
        for _ in range(2):
            record("attendance.period.reopen", object_type="attendance.period", actor=org.hr.user)
    time_machine.move_to(NOW, tick=False)
    services.thresholds_update(actor=org.hr.user, values={"hr_off_hours_limit": 3})

    rows = selectors.operator_rows(NOV)
    services.findings_run(actor=None)

    adds = [r for r in rows if r.kind == "manual_add"]
    assert sorted(r.own_team for r in adds) == [False, True]
    (finding,) = Finding.objects.filter(rule="hr_activity")
    assert finding.user == org.hr.user
    assert finding.params["triggers"] == ["own_team", "reopenings", "off_hours"]
    assert (finding.params["reopenings"], finding.params["off_hours"]) == (2, 3)
    assert finding.severity == "high"


def test_approving_without_the_required_attachment(org, categories, time_machine):
    week_for(org)
    time_machine.move_to(NOW, tick=False)
    only_checkout(org.employee, MON)
    (request,) = submit(org.employee.user, org.employee, item(MON, category="device"))
    # HR then asks for proof of every 设备故障: the pending request has none
    ReasonCategory.objects.filter(code="device").update(requires_attachment=True)
    time_machine.move_to(NOW + timedelta(hours=3), tick=False)
    correction_approve(actor=org.supervisor.user, request=request)

    (row,) = selectors.decision_rows(NOV)
    services.findings_run(actor=None)

    assert (row.needs_proof, row.has_proof, row.approved) == (True, False, True)
    assert (row.at - row.assigned_at) == timedelta(hours=3)
    (finding,) = Finding.objects.filter(rule="rubber_stamp")
    assert finding.params["triggers"] == ["no_proof"]
    assert finding.evidence[0]["id"] == request.pk and finding.evidence[0]["tag"] == "no_proof"


def test_a_requests_deadline_is_the_end_of_its_period_or_its_cut_off(org, categories, clock):
    from ztk.corrections.models import CorrectionPolicy

    week_for(org)
    only_checkout(org.employee, MON)
    submit(org.employee.user, org.employee, item(MON))

    (without,) = selectors.correction_rows(NOV)
    CorrectionPolicy.objects.create(group=org.group, cutoff_day=5)
    (with_cutoff,) = selectors.correction_rows(NOV)

    assert without.deadline == datetime(2026, 12, 1, tzinfo=SH)
    assert with_cutoff.deadline == datetime(2026, 12, 6, tzinfo=SH)
