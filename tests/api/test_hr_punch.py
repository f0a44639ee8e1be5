"""HR's "punch for someone" is one use case with two faces: the manual-add page and
POST /api/v1/punches with `employee` and `at`. Both go through
`manual_punch_add`, so the API refuses exactly what the page refuses, with the same
code and message (before, the API built the punch itself and skipped these rules).

A 09:00–18:00 weekday shift; 张三 (1002) punched in at 08:55 on Monday 23 Nov 2026 and
forgot to punch out. "Now" is Friday 27 Nov, 12:00 Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from ztk.accounts.services import api_key_create
from ztk.attendance.models import AttendanceDay, AttendancePeriod
from ztk.audit.models import AuditEvent
from ztk.hrdesk import manual
from ztk.punches.models import Punch
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

from .conftest import call

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=SH)
MON = date(2026, 11, 23)
OUT = datetime(2026, 11, 23, 18, 5, tzinfo=SH)
REMARK = "考勤机故障，主管确认"
LANG = "zh-hans"  # both faces answer in the caller's language


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def shop(org):
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group,
        monday_shift=shift,
        tuesday_shift=shift,
        wednesday_shift=shift,
        thursday_shift=shift,
        friday_shift=shift,
        default_workday_shift=shift,
    )
    record_punches(
        [
            PunchInput(
                at=datetime(2026, 11, 23, 8, 55, tzinfo=SH),
                source="device",
                employee_id=org.employee.pk,
                device_sn="SN1",
                pin=org.employee.employee_no,
            )
        ],
        now=NOW,
    )
    return org


def api_add(client, org, employee, remark):
    key = api_key_create(actor=None, user=org.hr.user, name="hr")[1]
    body = {"employee": employee.employee_no, "at": OUT.isoformat(), "remark": remark}
    return call(client, "POST", "/api/v1/punches", key=key, body=body, lang=LANG)


def page_add(client, org, employee, remark):
    client.force_login(org.hr.user)
    response = client.post(
        reverse("manual:add"),
        {
            "employee": employee.employee_no,
            "day": MON.isoformat(),
            "slot": "out1",
            "time_out1": "18:05",
            "remark": remark,
        },
        HTTP_ACCEPT_LANGUAGE=LANG,
    )
    client.logout()
    return response


def closed_november(org):
    AttendancePeriod.objects.create(
        group=org.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status="closed"
    )


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("no remark", manual.REMARK_REQUIRED),
        ("for themselves", manual.OWN_ATTENDANCE),
        ("in a closed period", manual.PERIOD_CLOSED),
    ],
)
def test_the_api_refuses_what_the_manual_add_page_refuses(client, shop, case, code):
    # given
    employee = shop.hr if case == "for themselves" else shop.employee
    remark = "" if case == "no remark" else REMARK
    if case == "in a closed period":
        closed_november(shop)

    # when
    page = page_add(client, shop, employee, remark)
    api = api_add(client, shop, employee, remark)

    # then: the same refusal, word for word, and nothing stored either way
    assert api.status == 422
    assert api.body["code"] == code
    assert page.status_code == 422
    assert escape(api.body["message"]) in page.content.decode()
    assert not Punch.objects.filter(source="manual").exists()
    assert not Punch.objects.filter(at=OUT).exists()


def test_the_api_hr_punch_is_a_manual_add_audited_and_filling_the_slot(client, shop):
    # when
    reply = api_add(client, shop, shop.employee, REMARK)

    # then
    assert reply.status == 201, reply.body
    assert reply.body["punch"]["source"] == "manual"
    assert reply.body["punch"]["remark"] == REMARK
    day = AttendanceDay.objects.get(employee=shop.employee, day=MON)
    out = next(s for s in day.slots if s["key"] == "out1")
    assert out["status"] == "manual"
    assert AuditEvent.objects.filter(action=manual.ADD_ACTION).count() == 1


def test_the_api_refuses_a_slot_that_already_has_a_punch_like_the_page(client, shop):
    assert api_add(client, shop, shop.employee, REMARK).status == 201

    again = api_add(client, shop, shop.employee, REMARK)

    assert again.status == 422
    assert again.body["code"] == manual.SLOT_ALREADY_PUNCHED


def test_only_hr_may_punch_for_someone(client, shop):
    key = api_key_create(actor=None, user=shop.supervisor.user, name="boss")[1]
    body = {"employee": shop.employee.employee_no, "at": OUT.isoformat(), "remark": REMARK}

    reply = call(client, "POST", "/api/v1/punches", key=key, body=body)

    assert reply.status == 403
    assert not Punch.objects.filter(at=OUT).exists()
