"""Paper forms (纸质《漏签申报表》): HR registers a signed form; it becomes an approved paper
correction, its slot shows 补卡, and the form with its scan stays in a searchable archive.

A 09:00–18:00 shift every weekday; 张三 (1002) punched in at 08:55 on Monday 23 Nov 2026 and
forgot to punch out; 王部长 (1000, the department head) signed the paper form on Tuesday.
"Now" is Friday 27 Nov, 12:00 Shanghai.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from ztk.approvals.models import ActionKind
from ztk.attendance.models import AttendanceDay, AttendancePeriod
from ztk.audit.models import AuditEvent
from ztk.core import uploads
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.corrections.models import (
    CorrectionPolicy,
    CorrectionRequest,
    PaperForm,
    QuotaCounter,
    ReasonCategory,
)
from ztk.corrections.services import ItemIn, correction_submit, used_in_period
from ztk.hrdesk import paper
from ztk.notifications.models import Notification
from ztk.org.services import pinyin_initials
from ztk.punches.models import Punch
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=SH)
MON = date(2026, 11, 23)
TUE = date(2026, 11, 24)
SAT = date(2026, 11, 21)

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 20


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in their English source form whatever the default language."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def shop(org):
    """09:00–18:00 weekdays; 张三 punched in at 08:55 on Monday and never punched out."""
    for code, name in [("forgot", "忘记打卡"), ("other", "其他")]:
        ReasonCategory.objects.get_or_create(policy=None, code=code, defaults={"name": name})
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
    record_punches(
        [
            PunchInput(
                at=at(MON, 8, 55),
                source="device",
                employee_id=org.employee.pk,
                device_sn="SN1",
                pin=org.employee.employee_no,
            )
        ],
        now=NOW,
    )
    return org


def scan(content: bytes = PDF, name: str = "form.pdf") -> ContentFile:
    return ContentFile(content, name=name)


def register(org, **overrides):
    values = {
        "actor": org.hr.user,
        "form_no": "LQ-2026-0001",
        "employee": org.employee,
        "day": MON,
        "slot_key": "out1",
        "time": at(MON, 18, 5),
        "reason": "考勤机故障，下班未能打卡",
        "signed_by": org.head,
        "signed_on": TUE,
        "scan": scan(),
        "now": NOW,
    }
    values.update(overrides)
    return paper.paper_form_register(**values)


def refused(org, **overrides) -> DomainError:
    with pytest.raises(DomainError) as caught:
        register(org, **overrides)
    return caught.value


def slot(employee, key: str, day: date = MON) -> dict:
    row = AttendanceDay.objects.get(employee=employee, day=day)
    return next(s for s in row.slots if s["key"] == key)


# --------------------------------------------------------------------------- registering


def test_the_form_becomes_an_approved_paper_correction_and_the_slot_shows_corrected(shop):
    # when
    form = register(shop)

    # then: an approved request on the paper channel, filed by HR on the employee's behalf
    req = form.request
    assert (req.channel, req.status, req.applicant, req.on_behalf) == (
        "paper",
        "approved",
        shop.hr.user,
        True,
    )
    assert (req.date, req.slot_key, req.requested_time) == (MON, "out1", at(MON, 18, 5))
    assert req.counts_against_quota is True
    # its punch is a paper punch linked to the request; the day is normal with 补卡
    punch = Punch.objects.get(pk=req.punch_id)
    assert (punch.source, punch.correction_id, punch.at) == ("paper", req.pk, at(MON, 18, 5))
    assert punch.created_by == shop.hr.user
    assert slot(shop.employee, "out1")["status"] == "corrected"
    assert AttendanceDay.objects.get(employee=shop.employee, day=MON).status == "normal"
    # the paper trail
    assert (form.form_no, form.signed_by, form.signed_by_name, form.signed_on) == (
        "LQ-2026-0001",
        shop.head,
        "王部长",
        TUE,
    )
    assert (form.scan_type, form.scan_size, form.entered_by) == (
        "application/pdf",
        len(PDF),
        shop.hr.user,
    )
    assert form.scan.name.startswith("paper-forms/") and form.scan.name.endswith(".pdf")
    with form.scan.open("rb") as stored:
        assert stored.read() == PDF


def test_the_trail_records_the_leaders_paper_approval(shop):
    req = register(shop).request
    actions = list(req.actions.order_by("pk"))
    assert [a.action for a in actions] == [ActionKind.SUBMIT, ActionKind.APPROVE]
    assert actions[0].actor == shop.hr.user
    assert actions[1].actor == shop.head.user
    assert "王部长" in actions[1].comment and "LQ-2026-0001" in actions[1].comment
    assert req.decided_by == shop.head.user


def test_a_signer_outside_the_system_is_kept_by_name(shop):
    form = register(shop, signed_by=None, signed_by_name="刘厂长")
    assert (form.signed_by, form.signed_by_name) == (None, "刘厂长")
    assert form.request.decided_by == shop.hr.user
    assert form.request.actions.get(action=ActionKind.APPROVE).actor is None


def test_a_wall_clock_time_is_placed_in_the_slots_window(shop):
    form = register(shop, time=time(18, 5))
    assert form.time == at(MON, 18, 5)


def test_registration_is_audited_with_before_and_after_and_the_employee_is_told(shop):
    form = register(shop)
    event = AuditEvent.objects.get(action=paper.ACTION)
    assert event.object_id == str(form.pk)
    assert event.actor_id == shop.hr.user.pk
    changes = event.changes
    before_slots = {s["key"]: s["status"] for s in changes["before"]["day"]["slots"]}
    after_slots = {s["key"]: s["status"] for s in changes["after"]["day"]["slots"]}
    assert before_slots["out1"] in ("missing", "pending")
    assert after_slots["out1"] == "corrected"
    assert changes["after"]["form"]["form_no"] == "LQ-2026-0001"
    assert changes["after"]["form"]["signed_by_name"] == "王部长"
    assert (changes["before"]["quota_used"], changes["after"]["quota_used"]) == (0, 1)
    assert changes["counts_against_quota"] is True
    assert AuditEvent.objects.filter(action=paper.PUNCH_AUDIT_ACTION).count() == 1
    note = Notification.objects.get(recipient=shop.employee.user, kind=paper.NOTIFY_KIND)
    assert "LQ-2026-0001" in note.body


# --------------------------------------------------------------------------- refusals


def test_the_form_number_is_unique(shop):
    register(shop)
    error = refused(shop, form_no="lq-2026-0001", slot_key="in1", time=at(TUE, 8, 59), day=TUE)
    assert error.code == paper.DUPLICATE_FORM_NO
    assert PaperForm.objects.count() == 1


def test_a_form_number_is_required(shop):
    assert refused(shop, form_no="   ").code == paper.FORM_NO_REQUIRED
    assert refused(shop, form_no="x" * 41).code == paper.FORM_NO_REQUIRED


def test_the_scan_is_required(shop):
    assert refused(shop, scan=None).code == paper.SCAN_REQUIRED
    assert refused(shop, scan=scan(b"")).code == paper.SCAN_REQUIRED


def test_the_scan_type_is_read_from_its_content(shop):
    assert refused(shop, scan=scan(EXE, "form.pdf")).code == paper.ATTACHMENT_TYPE
    form = register(shop, scan=scan(JPEG, "form.pdf"))
    assert form.scan_type == "image/jpeg" and form.scan.name.endswith(".jpg")
    assert form.scan_name == "form.pdf"


def test_the_scan_may_be_at_most_10_mb(shop, monkeypatch):
    monkeypatch.setattr(uploads, "SCAN", dataclasses.replace(uploads.SCAN, max_bytes=40))
    assert refused(shop).code == paper.ATTACHMENT_TOO_LARGE


def test_a_closed_period_is_refused(shop):
    AttendancePeriod.objects.create(
        group=shop.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status="closed"
    )
    assert refused(shop).code == paper.PERIOD_CLOSED


def test_a_future_time_is_refused(shop):
    friday = NOW.date()
    error = refused(shop, day=friday, time=at(friday, 18, 0), signed_on=friday)
    assert error.code == paper.FUTURE_TIME


def test_a_time_outside_the_slots_window_is_refused(shop):
    error = refused(shop, time=at(MON, 23, 30))
    assert error.code == paper.TIME_OUTSIDE_SLOT_WINDOW
    assert "23:30" in error.message


def test_a_slot_that_has_a_valid_punch_is_refused(shop):
    error = refused(shop, slot_key="in1", time=at(MON, 8, 50))
    assert error.code == paper.SLOT_ALREADY_PUNCHED


def test_a_slot_not_in_the_plan_is_refused(shop):
    assert refused(shop, slot_key="out2").code == paper.SLOT_NOT_FOUND
    error = refused(shop, day=SAT, time=at(SAT, 18, 0), signed_on=MON)
    assert error.code == paper.SLOT_NOT_FOUND
    assert "no shift" in error.message


def test_a_pending_request_for_the_slot_is_refused(shop):
    correction_submit(
        actor=shop.employee.user,
        employee=shop.employee,
        items=[ItemIn(MON, "out1", at(MON, 18, 1), "forgot", "忘记打下班卡了")],
        now=at(TUE, 9),
    )
    assert refused(shop).code == paper.DUPLICATE_PENDING


def test_signed_in_the_future_or_before_the_day_is_refused(shop):
    error = refused(shop, signed_on=NOW.date() + timedelta(days=1))
    assert error.code == paper.SIGNED_AFTER_ENTRY
    assert refused(shop, signed_on=MON - timedelta(days=1)).code == paper.SIGNED_BEFORE_DAY


def test_an_inactive_employee_is_refused(shop):
    shop.employee.active = False
    shop.employee.save(update_fields=["active"])
    assert refused(shop).code == paper.EMPLOYEE_INACTIVE


def test_signer_and_reason_are_required(shop):
    assert refused(shop, signed_by=None, signed_by_name=" ").code == paper.SIGNER_REQUIRED
    assert refused(shop, signed_by=shop.employee).code == paper.SIGNER_IS_EMPLOYEE
    assert refused(shop, reason=" x ").code == paper.REASON_REQUIRED
    assert refused(shop, category="nope").code == paper.UNKNOWN_CATEGORY


def test_only_hr_and_system_admins_register_and_never_their_own(shop):
    for outsider in (shop.employee.user, shop.supervisor.user, shop.auditor.user):
        with pytest.raises(PermissionDeniedError):
            register(shop, actor=outsider)
    assert refused(shop, employee=shop.hr, signed_by=shop.head).code == paper.OWN_ATTENDANCE
    assert register(shop, actor=shop.sysadmin).entered_by == shop.sysadmin


def test_a_refusal_leaves_nothing_behind(shop):
    punches = Punch.objects.count()
    refused(shop, time=at(MON, 23, 30))
    assert Punch.objects.count() == punches
    assert not CorrectionRequest.objects.exists()
    assert not PaperForm.objects.exists()
    assert not AuditEvent.objects.filter(action=paper.ACTION).exists()


# --------------------------------------------------------------------------- quota


def test_paper_forms_count_against_the_limit_by_default(shop):
    CorrectionPolicy.objects.create(group=shop.group, monthly_limit=1)
    register(shop)
    assert used_in_period(shop.employee, date(2026, 11, 1)) == 1
    assert QuotaCounter.objects.get(employee=shop.employee).used == 1
    # the second form in the period is over the limit …
    second = {"form_no": "LQ-2026-0002", "day": TUE, "slot_key": "in1", "time": at(TUE, 8, 58)}
    assert refused(shop, **second).code == paper.MONTHLY_LIMIT_REACHED
    # … unless HR overrides it with a reason, which is kept on the request
    assert refused(shop, quota_override_reason="  ", **second).code == paper.QUOTA_OVERRIDE_REASON
    form = register(shop, quota_override_reason="厂长特批", **second)
    assert form.request.quota_override_reason == "厂长特批"
    assert used_in_period(shop.employee, date(2026, 11, 1)) == 2


def test_paper_forms_do_not_count_when_the_policy_says_so(shop):
    CorrectionPolicy.objects.create(group=shop.group, monthly_limit=1, paper_counts=False)
    form = register(shop)
    assert form.request.counts_against_quota is False
    assert used_in_period(shop.employee, date(2026, 11, 1)) == 0
    register(shop, form_no="LQ-2026-0002", day=TUE, slot_key="in1", time=at(TUE, 8, 58))


def test_self_service_requests_fill_the_limit_a_paper_form_then_meets(shop):
    CorrectionPolicy.objects.create(group=shop.group, monthly_limit=1)
    correction_submit(
        actor=shop.employee.user,
        employee=shop.employee,
        items=[ItemIn(TUE, "in1", at(TUE, 8, 58), "forgot", "早上忘记打卡了")],
        now=NOW,
    )
    assert refused(shop).code == paper.MONTHLY_LIMIT_REACHED


# --------------------------------------------------------------------------- archive


@pytest.fixture
def archive(shop):
    """Three forms: 张三 Monday (王部长), 张三 Tuesday (刘厂长 on paper), 李四 Tuesday (王部长)."""
    first = register(shop)
    second = register(
        shop,
        form_no="LQ-2026-0002",
        day=TUE,
        slot_key="in1",
        time=at(TUE, 8, 58),
        signed_by=None,
        signed_by_name="刘厂长",
        signed_on=date(2026, 11, 25),
    )
    third = register(
        shop,
        form_no="B-77",
        employee=shop.colleague,
        day=TUE,
        slot_key="in1",
        time=at(TUE, 8, 57),
    )
    return first, second, third


def search(org, **criteria):
    return list(paper.paper_forms_search(actor=org.hr.user, **criteria))


def test_the_archive_is_searched_by_number_employee_dates_and_signer(shop, archive):
    first, second, third = archive
    assert search(shop) == [third, second, first]
    assert search(shop, form_no="lq-2026") == [second, first]
    assert search(shop, form_no="B-77") == [third]
    assert search(shop, employee="张三") == [second, first]
    assert search(shop, employee="1003") == [third]
    assert search(shop, employee="ls") == [third]  # pinyin initials of 李四
    assert search(shop, start=TUE) == [third, second]
    assert search(shop, end=MON) == [first]
    assert search(shop, signer="刘") == [second]
    assert search(shop, signer="1000") == [third, first]
    assert search(shop, signer="wbz") == [third, first]  # pinyin initials of 王部长


def test_only_hr_searches_the_archive(shop, archive):
    with pytest.raises(PermissionDeniedError):
        paper.paper_forms_search(actor=shop.employee.user)


def test_a_form_is_visible_to_hr_sysadmins_and_the_employee_only(shop, archive):
    form = archive[0]
    for viewer in (shop.hr.user, shop.sysadmin, shop.employee.user):
        assert paper.paper_form_for(viewer, form.pk) == form
    for outsider in (shop.supervisor.user, shop.head.user, shop.colleague.user, shop.stranger.user):
        with pytest.raises(NotFoundError):
            paper.paper_form_for(outsider, form.pk)


# --------------------------------------------------------------------------- pages


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_register_page_creates_the_form(shop):
    # given
    client = client_for(shop.hr.user)
    assert client.get(reverse("hrdesk:paper_new")).status_code == 200

    # when
    response = client.post(
        reverse("hrdesk:paper_new"),
        {
            "form_no": "LQ-9",
            "employee": "1002",
            "day": "2026-11-23",
            "slot": "out1",
            "time": "18:05",
            "reason": "考勤机故障，下班未能打卡",
            "category": "forgot",
            "signer": "1000",
            "signed_on": "2026-11-24",
            "scan": scan(),
        },
    )

    # then
    form = PaperForm.objects.get(form_no="LQ-9")
    assert response.status_code == 302
    assert response["Location"] == reverse("hrdesk:paper_detail", args=[form.pk])
    assert (form.signed_by, form.time, form.request.category.code) == (
        shop.head,
        at(MON, 18, 5),
        "forgot",
    )


def test_the_register_page_shows_a_refusal_and_keeps_what_was_typed(shop):
    response = client_for(shop.hr.user).post(
        reverse("hrdesk:paper_new"),
        {
            "form_no": "LQ-9",
            "employee": "1002",
            "day": "2026-11-23",
            "slot": "out1",
            "time": "18:05",
            "reason": "考勤机故障",
            "signer": "刘厂长",
            "signed_on": "2026-11-24",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Attach the scan of the signed form." in body
    assert 'value="LQ-9"' in body and "刘厂长" in body
    assert not PaperForm.objects.exists()


def test_the_slots_partial_lists_the_days_slots(shop):
    response = client_for(shop.hr.user).get(
        reverse("hrdesk:paper_slots"), {"employee": "1002", "day": "2026-11-23"}
    )
    body = response.content.decode()
    assert 'value="in1"' in body and 'value="out1"' in body and "out2" not in body


def test_the_archive_and_detail_pages(shop, archive):
    client = client_for(shop.hr.user)
    url = reverse("hrdesk:paper_list")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(queries) <= 12, [q["sql"] for q in queries]
    body = response.content.decode()
    assert "LQ-2026-0001" in body and "B-77" in body
    body = client.get(url, {"signer": "刘"}).content.decode()
    assert "LQ-2026-0002" in body and "B-77" not in body
    detail = client.get(reverse("hrdesk:paper_detail", args=[archive[0].pk]))
    assert detail.status_code == 200
    assert reverse("hrdesk:paper_scan", args=[archive[0].pk]) in detail.content.decode()


def test_the_scan_is_served_to_hr_and_the_employee_only(shop, archive):
    url = reverse("hrdesk:paper_scan", args=[archive[0].pk])
    for viewer in (shop.hr.user, shop.sysadmin, shop.employee.user):
        response = client_for(viewer).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == PDF
    for outsider in (shop.supervisor.user, shop.head.user, shop.stranger.user):
        assert client_for(outsider).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the log-in page


def test_the_pages_are_for_hr_and_system_admins(shop, archive):
    pages = [
        reverse("hrdesk:index"),
        reverse("hrdesk:paper_list"),
        reverse("hrdesk:paper_new"),
        reverse("hrdesk:paper_detail", args=[archive[0].pk]),
    ]
    for url in pages:
        assert client_for(shop.sysadmin).get(url).status_code == 200
        for outsider in (shop.employee.user, shop.supervisor.user, shop.auditor.user):
            assert client_for(outsider).get(url).status_code == 403, url
