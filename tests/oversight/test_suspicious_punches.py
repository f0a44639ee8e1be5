"""The suspicious-punch findings over real rows: web/phone punches with positions and the
user agent their audit event keeps (the device), the group's punch area (总部, 200 m)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.corrections.conftest import at
from ztk.core.context import RequestInfo, current_request
from ztk.oversight import punch_selectors, services
from ztk.oversight.models import Finding
from ztk.punches.services import PunchInput, record_punches

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = at(date(2026, 11, 25), 10)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile Safari/537.36"
HQ = (31.2304, 121.4737)
FAR = (31.2574, 121.4737)  # 3 km north of the office
BEIJING = (39.9042, 116.4074)


def phone_punch(employee, when: datetime, pos, *, agent: str, inside: bool | None, field=False):
    """One punch as ``web_punch`` records it: one audit event carrying the user agent."""
    ip = f"10.0.0.{employee.pk % 250}"
    token = current_request.set(RequestInfo(ip=ip, user_agent=agent, user=employee.user))
    try:
        result = record_punches(
            [
                PunchInput(
                    at=when,
                    source="mobile",
                    employee_id=employee.pk,
                    latitude=pos[0],
                    longitude=pos[1],
                    inside_geofence=inside,
                    field_punch=field,
                )
            ],
            actor=employee.user,
            now=when,
            audit_action="punches.mobile_punch",
        )
    finally:
        current_request.reset(token)
    return result.punch_ids[0]


@pytest.fixture
def punched(org, time_machine):
    factories.geofence(org.group, radius_m=200)
    # October: 张三 and 李四 punch at the office from their iPhones, every working morning
    for n in range(6):
        day = date(2026, 10, 5 + n)
        for employee in (org.employee, org.colleague):
            when = datetime.combine(day, time(8, 50), tzinfo=SH)
            time_machine.move_to(when, tick=False)
            phone_punch(employee, when, HQ, agent=IPHONE, inside=True)
    # November: 张三 punches with an Android phone 3 km away (field punches) three mornings,
    # and once from Beijing an hour after one of them
    ids = []
    for day in (date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)):
        when = datetime.combine(day, time(8, 55), tzinfo=SH)
        time_machine.move_to(when, tick=False)
        ids.append(phone_punch(org.employee, when, FAR, agent=ANDROID, inside=False, field=True))
    when = datetime.combine(date(2026, 11, 18), time(9, 55), tzinfo=SH)
    time_machine.move_to(when, tick=False)
    ids.append(phone_punch(org.employee, when, BEIJING, agent=ANDROID, inside=False, field=True))
    # 李四 keeps punching at the office with the same iPhone
    for day in (date(2026, 11, 16), date(2026, 11, 17)):
        when = datetime.combine(day, time(8, 52), tzinfo=SH)
        time_machine.move_to(when, tick=False)
        phone_punch(org.colleague, when, HQ, agent=IPHONE, inside=True)
    time_machine.move_to(NOW, tick=False)
    org.suspicious = ids
    return org


def test_position_rows_carry_the_device_from_the_audit_event(punched):
    rows = punch_selectors.position_rows([(date(2026, 11, 1), date(2026, 11, 30))], history_days=60)
    mine = [r for r in rows if r.employee_id == punched.employee.pk]
    assert [r.period_start for r in mine].count(None) == 6  # October: history
    assert {r.device_label for r in mine} == {"Safari · iPhone", "Chrome · Android"}
    assert all(r.device for r in rows)


def test_the_run_finds_outside_punches_a_jump_and_a_new_device_for_him_only(punched):
    services.findings_run(actor=None)

    found = {f.rule: f for f in Finding.objects.all()}
    assert set(found) == {"outside_fence", "implausible_jump", "new_device"}
    assert {f.employee for f in found.values()} == {punched.employee}
    outside = found["outside_fence"]
    assert outside.params["count"] == 4 and outside.params["field_punches"] == 4
    assert [e["id"] for e in outside.evidence] == punched.suspicious
    jump = found["implausible_jump"]
    assert jump.params["jumps"] == 1 and jump.params["fastest_kmh"] > 1000
    assert [e["id"] for e in jump.evidence] == punched.suspicious[2:]
    device = found["new_device"]
    assert device.params["devices"] == ["Chrome · Android"]
    assert [e["id"] for e in device.evidence] == punched.suspicious


def test_a_rerun_adds_nothing(punched):
    services.findings_run(actor=None)
    result = services.findings_run(actor=None)
    assert (result.created, result.updated) == (0, 3)


def test_the_thresholds_switch_the_rules(punched):
    services.thresholds_update(
        actor=punched.hr.user,
        values={"fence_outside_min": 5, "jump_speed_kmh": 2000, "device_min_history": 10},
    )
    services.findings_run(actor=None)
    assert not Finding.objects.exists()


def test_the_finding_page_links_the_punches_for_hr(punched, client):
    services.findings_run(actor=None)
    finding = Finding.objects.get(rule="implausible_jump")
    client.force_login(punched.hr.user)
    page = client.get(f"/hr/oversight/findings/{finding.pk}/").content.decode()
    assert "km/h" in page or "公里" in page
    assert "/attendance/" in page  # the punch's day page
