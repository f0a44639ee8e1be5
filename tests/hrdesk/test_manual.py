"""HR manual add (管理员手动添加): the rules of the service and the HR page, as the spec.

A 09:00–18:00 shift every weekday; 张三 (1002) punched in at 08:55 on Monday 23 Nov 2026 and
forgot to punch out. "Now" is Friday 27 Nov, 12:00 Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from ztk.attendance.days import Window
from ztk.attendance.models import AttendanceDay, AttendancePeriod
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.corrections.models import CorrectionPolicy
from ztk.corrections.services import used_in_period
from ztk.hrdesk import manual
from ztk.org.services import pinyin_initials
from ztk.punches.models import Punch, PunchVoid
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=SH)
MON = date(2026, 11, 23)
SAT = date(2026, 11, 21)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in their English source form whatever the default language."""
    with translation.override("en"):
        yield


@pytest.fixture
def shop(org):
    """The small org on a 09:00–18:00 weekday shift; 张三 punched in at 08:55 on Monday."""
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
    for person in (org.head, org.supervisor, org.employee, org.colleague, org.stranger, org.hr):
        person.name_initials = pinyin_initials(person.name)
        person.save(update_fields=["name_initials"])
    device_punch(org.employee, at(MON, 8, 55))
    return org


def device_punch(employee, moment: datetime) -> Punch:
    result = record_punches(
        [
            PunchInput(
                at=moment,
                source="device",
                employee_id=employee.pk,
                device_sn="SN1",
                pin=employee.employee_no,
            )
        ],
        now=NOW,
    )
    return Punch.objects.get(pk=result.punch_ids[0])


def day_row(employee, day: date = MON) -> AttendanceDay:
    return AttendanceDay.objects.get(employee=employee, day=day)


def slot(employee, key: str, day: date = MON) -> dict:
    return next(s for s in day_row(employee, day).slots if s["key"] == key)


def add(org, times, remark="考勤机故障，主管确认", actor=None, employee=None, day=MON):
    return manual.manual_punch_add(
        actor=actor or org.hr.user,
        employee=employee or org.employee,
        day=day,
        times=times,
        remark=remark,
        now=NOW,
    )


# --------------------------------------------------------------------------- adding


def test_the_missing_checkout_is_filled_and_the_day_updates_at_once(shop):
    # given
    assert slot(shop.employee, "out1")["status"] == "missing"

    # when
    punches = add(shop, [("out1", at(MON, 18, 5))])

    # then: one manual punch, entered by HR with the remark; the day is normal again
    assert len(punches) == 1
    punch = punches[0]
    assert (punch.source, punch.at, punch.created_by) == ("manual", at(MON, 18, 5), shop.hr.user)
    assert punch.remark == "考勤机故障，主管确认"
    row = day_row(shop.employee)
    assert row.status == "normal"
    assert row.manual_count == 1
    assert slot(shop.employee, "out1")["status"] == "manual"
    assert slot(shop.employee, "out1")["punch_id"] == punch.pk


def test_a_bare_time_goes_to_the_slot_whose_window_holds_it(shop):
    punches = add(shop, [at(MON, 17, 58)])
    assert slot(shop.employee, "out1")["punch_id"] == punches[0].pk


def test_both_slots_of_an_empty_day_at_once(shop):
    # given a Tuesday without any punch
    tue = MON + timedelta(days=1)

    # when
    punches = add(shop, [("in1", at(tue, 9)), ("out1", at(tue, 18))], day=tue)

    # then
    assert [p.at for p in punches] == [at(tue, 9), at(tue, 18)]
    assert [s["status"] for s in day_row(shop.employee, tue).slots] == ["manual", "manual"]


def test_the_add_is_audited_with_the_day_before_and_after(shop):
    # when
    punch = add(shop, [("out1", at(MON, 18, 5))])[0]

    # then
    event = AuditEvent.objects.get(action=manual.ADD_ACTION)
    assert event.actor_id == shop.hr.user.pk
    assert event.object_type == "attendance.attendanceday"
    before = {s["key"]: s["status"] for s in event.changes["before"]["slots"]}
    after = {s["key"]: s["status"] for s in event.changes["after"]["slots"]}
    assert (event.changes["before"]["status"], before["out1"]) == ("abnormal", "missing")
    assert (event.changes["after"]["status"], after["out1"]) == ("normal", "manual")
    assert event.changes["punches"] == [
        {"id": punch.pk, "at": punch.at.isoformat(), "slot": "out1"}
    ]
    assert event.changes["remark"] == "考勤机故障，主管确认"
    assert event.changes["counts_against_quota"] is False
    # and the punch itself went through the one door, audited as a manual add
    assert AuditEvent.objects.filter(action=manual.PUNCH_AUDIT_ACTION).count() == 1


def test_the_policy_decides_whether_manual_adds_count_against_the_limit(shop):
    # given a group whose policy counts manual adds
    CorrectionPolicy.objects.create(group=shop.group, manual_adds_count=True)

    # when
    add(shop, [("out1", at(MON, 18, 5))])

    # then: the add uses a place of the period; a void frees it again
    event = AuditEvent.objects.get(action=manual.ADD_ACTION)
    assert event.changes["counts_against_quota"] is True
    start = date(2026, 11, 1)
    assert used_in_period(shop.employee, start) == 1
    manual.manual_punch_void(
        actor=shop.hr.user, punch=Punch.objects.get(source="manual"), reason="录错了"
    )
    assert used_in_period(shop.employee, start) == 0


def test_by_default_manual_adds_do_not_count(shop):
    add(shop, [("out1", at(MON, 18, 5))])
    assert used_in_period(shop.employee, date(2026, 11, 1)) == 0


def test_a_sysadmin_may_add_too(shop):
    add(shop, [("out1", at(MON, 18, 5))], actor=shop.sysadmin)
    assert slot(shop.employee, "out1")["status"] == "manual"


def test_the_employee_is_notified(shop):
    pytest.importorskip("ztk.notifications.services")
    from ztk.notifications.models import Notification

    # when
    add(shop, [("out1", at(MON, 18, 5))])

    # then
    note = Notification.objects.get(recipient=shop.employee.user)
    assert note.kind == manual.NOTIFY_ADDED
    assert note.url == "/attendance/day/2026-11-23/"
    assert "18:05" in note.body
    assert "考勤机故障" in note.body
    assert note.data["day"] == "2026-11-23"


# --------------------------------------------------------------------------- refusals


def refused(code: str, call) -> DomainError:
    punches_before = Punch.objects.count()
    events_before = AuditEvent.objects.count()
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    # nothing is left behind: no punch, no audit event
    assert Punch.objects.count() == punches_before
    assert AuditEvent.objects.count() == events_before
    return caught.value


@pytest.mark.parametrize("remark", ["", " ", " x "])
def test_a_remark_is_required(shop, remark):
    refused(manual.REMARK_REQUIRED, lambda: add(shop, [("out1", at(MON, 18))], remark=remark))


def test_no_times_no_add(shop):
    refused(manual.NO_TIMES, lambda: add(shop, []))


def test_a_closed_period_is_refused(shop):
    AttendancePeriod.objects.create(
        group=shop.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status="closed"
    )
    error = refused(manual.PERIOD_CLOSED, lambda: add(shop, [("out1", at(MON, 18))]))
    assert "2026-11-01" in error.message


def test_an_open_period_is_fine(shop):
    AttendancePeriod.objects.create(
        group=shop.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status="open"
    )
    add(shop, [("out1", at(MON, 18))])
    assert slot(shop.employee, "out1")["status"] == "manual"


def test_a_future_time_is_refused(shop):
    today = NOW.date()
    refused(manual.FUTURE_TIME, lambda: add(shop, [("out1", at(today, 18))], day=today))


def test_a_future_day_is_refused(shop):
    later = NOW.date() + timedelta(days=3)
    refused(manual.FUTURE_TIME, lambda: add(shop, [("out1", at(later, 18))], day=later))


def test_today_before_now_is_fine(shop):
    today = NOW.date()
    add(shop, [("in1", at(today, 8, 59))], day=today)
    assert slot(shop.employee, "in1", today)["status"] == "manual"


@pytest.mark.parametrize(
    "times",
    [
        [("out1", at(MON, 3))],  # before the day's first window
        [("in1", at(MON, 15))],  # in the check-out window, claimed for the check-in
        [at(MON, 23, 30)],  # after the last window (18:00 + 4 h)
    ],
)
def test_a_time_outside_the_slot_window_is_refused(shop, times):
    refused(manual.TIME_OUTSIDE_SLOT_WINDOW, lambda: add(shop, times))


def test_an_unknown_slot_is_refused(shop):
    refused(manual.SLOT_NOT_FOUND, lambda: add(shop, [("out2", at(MON, 18))]))


def test_a_rest_day_has_no_slot_to_fill(shop):
    refused(manual.NO_SHIFT, lambda: add(shop, [at(SAT, 9)], day=SAT))


def test_an_inactive_employee_is_refused(shop):
    shop.employee.active = False
    shop.employee.save(update_fields=["active"])
    refused(manual.EMPLOYEE_INACTIVE, lambda: add(shop, [("out1", at(MON, 18))]))


def test_a_slot_with_a_valid_punch_is_refused(shop):
    error = refused(manual.SLOT_ALREADY_PUNCHED, lambda: add(shop, [("in1", at(MON, 8, 30))]))
    assert "08:55" in error.message


def test_a_manually_filled_slot_is_refused_the_second_time(shop):
    add(shop, [("out1", at(MON, 18, 5))])
    refused(manual.SLOT_ALREADY_PUNCHED, lambda: add(shop, [("out1", at(MON, 18, 30))]))


def test_two_times_for_one_slot_are_refused(shop):
    tue = MON + timedelta(days=1)
    refused(
        manual.DUPLICATE_SLOT,
        lambda: add(shop, [("out1", at(tue, 18)), at(tue, 18, 30)], day=tue),
    )


def test_several_times_are_all_or_nothing(shop):
    # given a Tuesday: a good check-in time, and a check-out in the future of "now"?
    # no: a check-out that lies outside its window
    tue = MON + timedelta(days=1)
    refused(
        manual.TIME_OUTSIDE_SLOT_WINDOW,
        lambda: add(shop, [("in1", at(tue, 9)), ("out1", at(tue, 23, 59))], day=tue),
    )
    assert not Punch.objects.filter(source="manual").exists()


def test_a_naive_time_is_refused(shop):
    refused(manual.INVALID_TIME, lambda: add(shop, [("out1", datetime(2026, 11, 23, 18))]))


@pytest.mark.parametrize("who", ["employee", "supervisor", "head", "auditor", "stranger"])
def test_only_hr_and_sysadmins_may_add(shop, who):
    user = getattr(shop, who).user
    with pytest.raises(PermissionDeniedError):
        add(shop, [("out1", at(MON, 18))], actor=user)
    assert not Punch.objects.filter(source="manual").exists()


def test_hr_may_not_add_to_their_own_attendance(shop):
    refused(
        manual.OWN_ATTENDANCE,
        lambda: add(shop, [("out1", at(MON, 18))], employee=shop.hr, actor=shop.hr.user),
    )


# --------------------------------------------------------------------------- voiding


def test_a_wrong_manual_punch_is_voided_audited_and_kept(shop):
    # given
    punch = add(shop, [("out1", at(MON, 18, 5))])[0]

    # when
    void = manual.manual_punch_void(actor=shop.hr.user, punch=punch, reason="时间录错")

    # then: the punch stays, voided; the slot is missing again
    assert Punch.objects.filter(pk=punch.pk).exists()
    assert PunchVoid.objects.get(punch=punch) == void
    assert void.voided_by == shop.hr.user
    assert slot(shop.employee, "out1")["status"] == "missing"
    event = AuditEvent.objects.get(action=manual.VOID_ACTION)
    assert event.object_id == str(punch.pk)
    assert event.changes["reason"] == "时间录错"
    assert event.changes["before"]["status"] == "normal"
    assert event.changes["after"]["status"] == "abnormal"
    assert AuditEvent.objects.filter(action="punches.punch.void").count() == 1


def test_after_a_void_the_same_time_can_be_added_again(shop):
    punch = add(shop, [("out1", at(MON, 18, 5))])[0]
    manual.manual_punch_void(actor=shop.hr.user, punch=punch, reason="备注写错")
    again = add(shop, [("out1", at(MON, 18, 5))], remark="重新补录")[0]
    assert again.pk != punch.pk
    assert slot(shop.employee, "out1")["punch_id"] == again.pk


def test_only_manual_punches_are_voided_here(shop):
    device = Punch.objects.get(source="device")
    refused(
        manual.NOT_MANUAL,
        lambda: manual.manual_punch_void(actor=shop.hr.user, punch=device, reason="不对"),
    )
    assert not PunchVoid.objects.exists()


def test_a_void_needs_a_reason(shop):
    punch = add(shop, [("out1", at(MON, 18, 5))])[0]
    refused(
        "reason_required",
        lambda: manual.manual_punch_void(actor=shop.hr.user, punch=punch, reason=" "),
    )


def test_a_void_in_a_closed_period_is_refused(shop):
    punch = add(shop, [("out1", at(MON, 18, 5))])[0]
    AttendancePeriod.objects.create(
        group=shop.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status="closed"
    )
    refused(
        manual.PERIOD_CLOSED,
        lambda: manual.manual_punch_void(actor=shop.hr.user, punch=punch, reason="录错了"),
    )


def test_only_hr_may_void(shop):
    punch = add(shop, [("out1", at(MON, 18, 5))])[0]
    with pytest.raises(PermissionDeniedError):
        manual.manual_punch_void(actor=shop.supervisor.user, punch=punch, reason="录错了")
    assert not PunchVoid.objects.exists()


def test_the_employee_is_told_of_a_void(shop):
    pytest.importorskip("ztk.notifications.services")
    from ztk.notifications.models import Notification

    punch = add(shop, [("out1", at(MON, 18, 5))])[0]
    manual.manual_punch_void(actor=shop.hr.user, punch=punch, reason="录错了")
    kinds = list(
        Notification.objects.filter(recipient=shop.employee.user)
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == [manual.NOTIFY_ADDED, manual.NOTIFY_VOIDED]


# --------------------------------------------------------------------------- search


@pytest.mark.parametrize("query", ["zs", "ZS", "张三", "张", "1002"])
def test_search_by_pinyin_initials_name_or_number(shop, query):
    found = manual.employee_search(query)
    assert shop.employee in found


def test_search_is_one_query(shop, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = manual.employee_search("l")
        [(e.department, e.attendance_group) for e in found]
    assert {e.name for e in found} >= {"李四", "李主管"}


def test_search_of_nothing_finds_nothing(shop):
    assert manual.employee_search("   ") == []


def test_time_in_window_puts_a_night_shift_checkout_on_the_next_day():
    window = Window(
        key="out1",
        kind="out",
        segment=1,
        expected=at(MON + timedelta(days=1), 6),
        start=at(MON, 2),
        end=at(MON + timedelta(days=1), 10),
        end_inclusive=True,
    )
    assert manual.time_in_window(window, time(6, 30)) == at(MON + timedelta(days=1), 6, 30)
    assert manual.time_in_window(window, time(23, 0)) == at(MON, 23)


# --------------------------------------------------------------------------- the page


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def page_url(**params) -> str:
    from django.utils.http import urlencode

    return f"{reverse('manual:index')}?{urlencode(params)}" if params else reverse("manual:index")


@pytest.mark.parametrize("who", ["employee", "supervisor", "head", "auditor"])
def test_the_page_is_for_hr_and_sysadmins_only(shop, who):
    user = getattr(shop, who).user
    client = client_for(user)
    assert client.get(reverse("manual:index")).status_code == 403
    assert client.get(reverse("manual:search"), {"q": "zs"}).status_code == 403
    response = client.post(
        reverse("manual:add"),
        {"employee": "1002", "day": MON.isoformat(), "slot": "out1", "time_out1": "18:05"},
    )
    assert response.status_code == 403
    assert not Punch.objects.filter(source="manual").exists()


def test_the_page_needs_a_log_in(shop):
    response = Client().get(reverse("manual:index"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_hr_and_sysadmin_open_the_page(shop):
    for user in (shop.hr.user, shop.sysadmin):
        response = client_for(user).get(reverse("manual:index"))
        assert response.status_code == 200
        assert b'hx-get="/hr/manual/search/"' in response.content


def test_typing_pinyin_initials_lists_the_employee(shop):
    response = client_for(shop.hr.user).get(
        reverse("manual:search"), {"q": "zs"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # a partial
    assert "张三" in html and "?employee=1002" in html
    assert "李四" not in html


def test_the_day_shows_slots_punches_and_a_prefilled_time(shop, frozen):
    response = client_for(shop.hr.user).get(page_url(employee="1002", day=MON.isoformat()))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-slot="out1"' in html and "Missing punch" in html
    assert "08:55:00" in html  # the device punch
    assert 'name="time_out1" value="18:00"' in html  # pre-filled with the expected time
    assert 'name="time_in1"' not in html  # the check-in has a punch
    assert 'name="remark"' in html


def test_a_day_without_a_stored_result_shows_its_plan(shop, frozen):
    tue = MON + timedelta(days=1)
    assert not AttendanceDay.objects.filter(employee=shop.employee, day=tue).exists()
    html = (
        client_for(shop.hr.user).get(page_url(employee="1002", day=tue.isoformat())).content
    ).decode()
    assert 'name="time_in1" value="09:00"' in html
    assert 'name="time_out1" value="18:00"' in html


def test_saving_shows_the_recomputed_day_and_a_message(shop, frozen):
    client = client_for(shop.hr.user)

    # when
    response = client.post(
        reverse("manual:add"),
        {
            "employee": "1002",
            "day": MON.isoformat(),
            "slot": "out1",
            "time_out1": "18:05",
            "remark": "考勤机故障",
        },
        follow=True,
    )

    # then
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == page_url(employee="1002", day=MON.isoformat())
    assert "Added 18:05 for 张三" in html
    assert '<span class="slot-badge slot-manual">Added by HR</span>' in html
    assert 'name="time_out1"' not in html  # nothing left to add
    assert "Void" in html and "考勤机故障" in html
    assert slot(shop.employee, "out1")["status"] == "manual"


def test_a_refused_save_keeps_what_was_typed(shop, frozen):
    response = client_for(shop.hr.user).post(
        reverse("manual:add"),
        {
            "employee": "1002",
            "day": MON.isoformat(),
            "slot": "out1",
            "time_out1": "23:30",
            "remark": "考勤机故障",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "outside the punch window" in html
    assert 'name="time_out1" value="23:30"' in html
    assert "考勤机故障</textarea>" in html
    assert not Punch.objects.filter(source="manual").exists()


def test_a_missing_remark_is_refused_on_the_page(shop, frozen):
    response = client_for(shop.hr.user).post(
        reverse("manual:add"),
        {"employee": "1002", "day": MON.isoformat(), "slot": "out1", "time_out1": "18:05"},
    )
    assert response.status_code == 422
    assert "remark of at least 2 characters" in response.content.decode()


def test_voiding_on_the_page_strikes_the_punch_through(shop, frozen):
    punch = add(shop, [("out1", at(MON, 18, 5))])[0]
    response = client_for(shop.hr.user).post(
        reverse("manual:void", args=[punch.pk]),
        {"reason": "录错了", "day": MON.isoformat()},
        follow=True,
    )
    html = response.content.decode()
    assert "was voided" in html
    assert f'data-punch="{punch.pk}"' in html
    assert "<s><time" in html and "录错了" in html
    assert 'name="time_out1" value="18:00"' in html  # the slot may be filled again


def test_the_employee_sees_the_manual_punch_in_their_day(shop, frozen):
    add(shop, [("out1", at(MON, 18, 5))])
    html = client_for(shop.employee.user).get(f"/attendance/day/{MON.isoformat()}/").content
    html = html.decode()
    assert "Added by HR" in html
    assert "HR manual add" in html and "18:05:00" in html


def test_the_day_page_runs_a_fixed_number_of_queries(shop, frozen):
    client = client_for(shop.hr.user)
    url = page_url(employee="1002", day=MON.isoformat())
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for day in range(24, 27):
        device_punch(shop.employee, at(date(2026, 11, day), 9))
    device_punch(shop.employee, at(MON, 12))
    device_punch(shop.employee, at(MON, 13))
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more) == len(few)
