"""Attendance periods (月结) as the spec: the checklist lists what is outstanding, closing
is refused until the period is over, final and without pending corrections (or HR cancels
them, and the applicant is told), a closed period refuses corrections and manual adds and
recomputes leave it alone, reopening needs a reason, is audited and tells HR and the
supervisors. HR only.

The small org on a 09:00–18:00 weekday shift. 张三 (1002) forgot to punch in on Monday
30 November 2026 and asked for a correction; "now" is Wednesday 2 December, 10:00.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLResolver, include, path

from config.urls import urlpatterns as project_urlpatterns
from tests import factories
from tests.corrections.conftest import at, item, only_checkout, submit, week_for
from ztk.attendance.models import AttendanceDay, AttendancePeriod, PeriodStatus
from ztk.audit.models import AuditEvent
from ztk.audit.selectors import audit_verify
from ztk.closing import refusals, selectors, services
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.corrections.models import ReasonCategory, Status
from ztk.devices.models import Device, HeldPunch
from ztk.hrdesk.manual import manual_punch_add
from ztk.notifications.models import Notification
from ztk.org.models import Company
from ztk.punches.services import PunchInput, record_punches


def _mounted(namespace: str) -> bool:
    return any(isinstance(p, URLResolver) and p.namespace == namespace for p in project_urlpatterns)


# Test-only URLconf: the project's URLs plus the oversight pages until the project mounts them.
urlpatterns = [
    *(
        []
        if _mounted("oversight")
        else [path("hr/oversight/", include("ztk.hrdesk.urls.oversight"))]
    ),
    *project_urlpatterns,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

NOV1, NOV26, NOV27, NOV30 = (
    date(2026, 11, 1),
    date(2026, 11, 26),
    date(2026, 11, 27),
    date(2026, 11, 30),
)
NOW = at(date(2026, 12, 2), 10)


@pytest.fixture
def shop(org, time_machine):
    """The org on a weekday shift, 张三's request for Monday 30 November pending."""
    time_machine.move_to(NOW, tick=False)
    for code, name in [("forgot", "忘记打卡"), ("device", "设备故障")]:
        ReasonCategory.objects.get_or_create(policy=None, code=code, defaults={"name": name})
    week_for(org)
    only_checkout(org.employee, NOV30)
    (org.request,) = submit(org.employee.user, org.employee, item(NOV30))
    return org


def codes(excinfo) -> str:
    return excinfo.value.code


def inbox(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def finalise(org) -> int:
    return services.period_finalise_days(actor=org.hr.user, group=org.group, start=NOV1)


def confirmed(org) -> str:
    """The token of the close confirmation as it stands (what HR saw before closing)."""
    return selectors.close_review(group=org.group, start=NOV1).token


# --- periods ----------------------------------------------------------------------------------


def test_period_for_follows_the_company_start_day(org):
    Company.objects.create(name="ZTK", period_start_day=26)
    period = selectors.period_for(org.group, NOV27)
    assert (period.start, period.end, period.status) == (NOV26, date(2026, 12, 25), "open")
    assert selectors.period_for(org.group, date(2026, 12, 25)).pk == period.pk
    earlier = selectors.period_for(org.group, date(2026, 11, 25))
    assert (earlier.start, earlier.end) == (date(2026, 10, 26), date(2026, 11, 25))
    assert AttendancePeriod.objects.count() == 2
    with pytest.raises(DomainError) as excinfo:
        selectors.period_at(org.group, NOV27)  # no period starts on the 27th
    assert codes(excinfo) == refusals.BAD_PERIOD


# --- the checklist ----------------------------------------------------------------------------


def test_the_checklist_lists_each_kind(shop):
    org = shop
    device = Device.objects.create(serial="GATE1", status="approved", attendance_group=org.group)
    other = factories.AttendanceGroupFactory(code="NIGHT")
    elsewhere = Device.objects.create(serial="GATE9", status="approved", attendance_group=other)

    def held(dev, when: datetime, resolved=False):
        HeldPunch.objects.create(
            device=dev,
            device_sn=dev.serial,
            pin="777",
            local_time=when.strftime("%Y-%m-%d %H:%M:%S"),
            at=when,
            reason="unknown_pin",
            resolved_at=NOW if resolved else None,
        )

    held(device, at(date(2026, 11, 20), 9))  # counts
    held(device, at(date(2026, 11, 21), 9), resolved=True)  # assigned already
    held(device, at(date(2026, 12, 1), 9))  # next period
    held(elsewhere, at(date(2026, 11, 20), 9))  # another group's terminal

    checklist = selectors.period_checklist(group=org.group, start=NOV1)

    assert [r.pk for r in checklist.pending_corrections] == [org.request.pk]
    assert checklist.held_punches == 1
    # 30 November of 张三 is stored but provisional; the other days were never computed
    assert ("1002", NOV30) in [(s.employee_no, s.day) for s in checklist.unfinalised_sample]
    employees = org.group.employees.filter(active=True).count()
    stored = AttendanceDay.objects.filter(day__gte=NOV1, day__lte=NOV30).count()
    assert checklist.missing_days == employees * 30 - stored
    assert checklist.unfinalised_days == checklist.missing_days + stored
    assert {m.employee_no for m in checklist.missing_sample} >= {"1002", "1003"}
    assert checklist.over and not checklist.closed and not checklist.ok
    assert checklist.blocking == [refusals.PENDING_CORRECTIONS, refusals.UNFINALISED_DAYS]


def test_finalising_makes_every_past_day_of_the_period_final(shop):
    org = shop
    written = finalise(org)
    employees = org.group.employees.filter(active=True).count()
    assert written == employees * 30
    days = AttendanceDay.objects.filter(day__gte=NOV1, day__lte=NOV30)
    assert days.count() == employees * 30 and not days.filter(finalised=False).exists()
    # 张三's Monday is final now: the missing check-in counts as missing
    monday = days.get(employee=org.employee, day=NOV30)
    assert monday.finalised and monday.missing_in_count == 1
    checklist = selectors.period_checklist(group=org.group, start=NOV1)
    assert checklist.unfinalised_days == 0 and checklist.missing_days == 0
    assert finalise(org) == 0  # nothing left: a second run writes nothing
    event = AuditEvent.objects.get(action="attendance.period.finalise")
    assert event.changes["days"] == written


def test_days_before_hire_are_not_expected(shop):
    org = shop
    newcomer = factories.EmployeeFactory(attendance_group=org.group, hire_date=NOV26)
    finalise(org)
    assert AttendanceDay.objects.filter(employee=newcomer).count() == 5  # 26–30 November


# --- closing -----------------------------------------------------------------------------------


def test_a_period_cannot_be_closed_before_its_last_day_has_passed(shop, time_machine):
    time_machine.move_to(at(NOV30, 23, 30), tick=False)
    with pytest.raises(DomainError) as excinfo:
        services.period_close(actor=shop.hr.user, group=shop.group, start=NOV1)
    assert codes(excinfo) == refusals.PERIOD_NOT_OVER


def test_close_is_refused_while_days_are_not_final(shop):
    org = shop
    with pytest.raises(DomainError) as excinfo:
        services.period_close(actor=org.hr.user, group=org.group, start=NOV1, cancel_pending=True)
    assert codes(excinfo) == refusals.UNFINALISED_DAYS
    # nothing was written: the request is still pending, the period open, nothing audited
    org.request.refresh_from_db()
    assert org.request.status == Status.PENDING
    assert selectors.period_at(org.group, NOV1).status == PeriodStatus.OPEN
    assert not AuditEvent.objects.filter(action__startswith="attendance.period.close").exists()


def test_close_is_refused_with_pending_requests_unless_hr_cancels_them(
    shop, django_capture_on_commit_callbacks
):
    org = shop
    finalise(org)
    with pytest.raises(DomainError) as excinfo:
        services.period_close(actor=org.hr.user, group=org.group, start=NOV1)
    assert codes(excinfo) == refusals.PENDING_CORRECTIONS
    assert excinfo.value.details == {"n": 1}
    org.request.refresh_from_db()
    assert org.request.status == Status.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        period = services.period_close(
            actor=org.hr.user,
            group=org.group,
            start=NOV1,
            confirm=confirmed(org),
            cancel_pending=True,
            note="请下月注意",
        )

    assert (period.status, period.closed_by, period.closed_at) == ("closed", org.hr.user, NOW)
    org.request.refresh_from_db()
    assert org.request.status == Status.CANCELLED
    assert "correction_cancelled" in inbox(org.employee.user)
    cancel = org.request.actions.get(action="cancel")
    assert "2026-11-01" in cancel.comment and "请下月注意" in cancel.comment
    event = AuditEvent.objects.get(action="attendance.period.close")
    assert event.changes["before"]["status"] == "open"
    assert event.changes["after"]["status"] == "closed"
    assert event.changes["checklist"]["pending_corrections"] == [org.request.pk]
    assert event.changes["cancelled"] == 1
    assert audit_verify().ok


def test_hr_may_decide_the_pending_requests_first(shop):
    from ztk.corrections.services import correction_approve

    org = shop
    correction_approve(actor=org.supervisor.user, request=org.request)
    correction_approve(actor=org.hr.user, request=org.request)
    finalise(org)
    period = services.period_close(
        actor=org.hr.user, group=org.group, start=NOV1, confirm=confirmed(org)
    )
    assert period.status == PeriodStatus.CLOSED
    org.request.refresh_from_db()
    assert org.request.status == Status.APPROVED
    event = AuditEvent.objects.get(action="attendance.period.close")
    assert event.changes["cancelled"] == 0 and event.changes["checklist"]["ok"] is True


@pytest.fixture
def closed(shop):
    finalise(shop)
    services.period_close(
        actor=shop.hr.user,
        group=shop.group,
        start=NOV1,
        confirm=confirmed(shop),
        cancel_pending=True,
    )
    return shop


def test_a_closed_period_cannot_be_closed_again(closed):
    with pytest.raises(DomainError) as excinfo:
        services.period_close(actor=closed.hr.user, group=closed.group, start=NOV1)
    assert codes(excinfo) == refusals.ALREADY_CLOSED
    with pytest.raises(DomainError) as excinfo:
        services.period_finalise_days(actor=closed.hr.user, group=closed.group, start=NOV1)
    assert codes(excinfo) == refusals.ALREADY_CLOSED


def test_a_closed_period_refuses_corrections(closed):
    org = closed
    with pytest.raises(DomainError) as excinfo:
        submit(org.employee.user, org.employee, item(NOV30))
    assert codes(excinfo) == "period_closed"


def test_a_closed_period_refuses_manual_adds(closed):
    org = closed
    with pytest.raises(DomainError) as excinfo:
        manual_punch_add(
            actor=org.hr.user,
            employee=org.colleague,
            day=NOV27,
            times=[at(NOV27, 9)],
            remark="门禁记录核实后补录",
        )
    assert codes(excinfo) == "period_closed"


def test_recompute_leaves_the_days_of_a_closed_period_alone(closed):
    org = closed
    before = AttendanceDay.objects.get(employee=org.colleague, day=NOV26)
    assert before.status == "absent"
    record_punches(
        [
            PunchInput(
                at=at(NOV26, 8, 55),
                source="device",
                employee_id=org.colleague.pk,
                device_sn="SN1",
                pin=org.colleague.employee_no,
            )
        ]
    )
    after = AttendanceDay.objects.get(employee=org.colleague, day=NOV26)
    assert (after.status, after.computed_at, after.slots) == (
        before.status,
        before.computed_at,
        before.slots,
    )


# --- reopening ---------------------------------------------------------------------------------


def test_reopening_needs_a_reason_is_audited_and_tells_hr_and_the_supervisors(closed):
    org = closed
    second_hr = factories.EmployeeFactory(
        user=factories.UserFactory(username="hr2"), attendance_group=org.group
    )
    factories.add_to_group(second_hr.user, "hr")
    with pytest.raises(DomainError) as excinfo:
        services.period_reopen(actor=org.hr.user, group=org.group, start=NOV1, reason="  ")
    assert codes(excinfo) == refusals.REASON_REQUIRED
    assert selectors.period_at(org.group, NOV1).status == PeriodStatus.CLOSED

    period = services.period_reopen(
        actor=org.hr.user, group=org.group, start=NOV1, reason="工资核算发现漏记出差"
    )

    assert (period.status, period.closed_at, period.closed_by) == ("open", None, None)
    event = AuditEvent.objects.get(action="attendance.period.reopen")
    assert event.changes["reason"] == "工资核算发现漏记出差"
    assert (event.changes["before"]["status"], event.changes["after"]["status"]) == (
        "closed",
        "open",
    )
    assert event.actor_id == org.hr.user_id
    # HR (not the one who reopened) and the supervisors of the group's employees
    assert inbox(second_hr.user) == ["period_reopened"]
    assert inbox(org.supervisor.user).count("period_reopened") == 1  # 张三's and 李四's
    assert inbox(org.head.user).count("period_reopened") == 1  # 李主管's supervisor
    assert "period_reopened" not in inbox(org.hr.user)
    assert "period_reopened" not in inbox(org.employee.user)
    note = Notification.objects.get(recipient=org.supervisor.user, kind="period_reopened")
    assert "工资核算发现漏记出差" in note.body
    # open again: corrections are accepted (within their window)
    (req,) = submit(org.employee.user, org.employee, item(NOV30))
    assert req.status == Status.PENDING
    with pytest.raises(DomainError) as excinfo:
        services.period_reopen(actor=org.hr.user, group=org.group, start=NOV1, reason="再次打开")
    assert codes(excinfo) == refusals.NOT_CLOSED
    assert audit_verify().ok


# --- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["employee", "supervisor", "head", "auditor", "sysadmin"])
def test_only_hr_finalises_closes_and_reopens(shop, who):
    org = shop
    user = org.sysadmin if who == "sysadmin" else getattr(org, who).user
    with pytest.raises(PermissionDeniedError):
        services.period_finalise_days(actor=user, group=org.group, start=NOV1)
    with pytest.raises(PermissionDeniedError):
        services.period_close(actor=user, group=org.group, start=NOV1, cancel_pending=True)
    with pytest.raises(PermissionDeniedError):
        services.period_reopen(actor=user, group=org.group, start=NOV1, reason="试试看")


# --- pages -------------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


DETAIL = "/hr/periods/STD/2026-11-01/"


@pytest.mark.parametrize("who", ["employee", "supervisor", "auditor", "sysadmin"])
def test_the_pages_are_for_hr_only(shop, who):
    user = shop.sysadmin if who == "sysadmin" else getattr(shop, who).user
    client = client_for(user)
    assert client.get("/hr/periods/").status_code == 403
    assert client.get(DETAIL).status_code == 403
    for action in ("finalise", "close", "reopen"):
        assert client.post(f"{DETAIL}{action}/", {"reason": "试试看"}).status_code == 403
    assert Client().get("/hr/periods/").status_code == 302  # to the log-in page


def test_hr_finalises_closes_and_reopens_from_the_pages(shop):
    org = shop
    client = client_for(org.hr.user)
    index = client.get("/hr/periods/")
    assert index.status_code == 200
    assert DETAIL in index.content.decode()
    assert client.get("/hr/periods/", {"group": "STD", "month": "2026-11"}).url == DETAIL
    assert client.get("/hr/periods/STD/2026-11-05/").status_code == 404
    assert client.get("/hr/periods/NOPE/2026-11-01/").status_code == 404

    page = client.get(DETAIL).content.decode()
    assert "张三" in page and "2026-11-30" in page  # the pending request
    assert "Finalise the past days" in page and "Close the period" in page

    refused = client.post(f"{DETAIL}close/", {"cancel_pending": "1"}, follow=True)
    assert "not final yet" in refused.content.decode()
    done = client.post(f"{DETAIL}finalise/", follow=True)
    assert "employee-days were finalised" in done.content.decode()
    refused = client.post(f"{DETAIL}close/", follow=True)
    assert "still pending" in refused.content.decode()
    unconfirmed = client.post(f"{DETAIL}close/", {"cancel_pending": "1"}, follow=True)
    assert unconfirmed.redirect_chain[-1][0] == f"{DETAIL}confirm/"
    assert "confirm the close" in unconfirmed.content.decode()
    token = unconfirmed.context["review"].token
    closed = client.post(f"{DETAIL}close/", {"cancel_pending": "1", "confirm": token}, follow=True)
    body = closed.content.decode()
    assert "is closed" in body and 'id="period-status"' in body
    assert selectors.period_at(org.group, NOV1).status == PeriodStatus.CLOSED
    assert "Reopen the period" in body

    reopened = client.post(f"{DETAIL}reopen/", {"reason": "补录出差"}, follow=True)
    assert "is open again" in reopened.content.decode()
    assert selectors.period_at(org.group, NOV1).status == PeriodStatus.OPEN


def test_the_pages_fit_a_phone(shop):
    """No fixed widths: the pages are cards and forms of the shared stylesheet."""
    client = client_for(shop.hr.user)
    for url in ("/hr/periods/", DETAIL):
        html = client.get(url).content.decode()
        assert 'name="viewport"' in html
        assert "<table" not in html and "width:" not in html.replace("min-width", "")


def test_hr_group_is_the_only_way_in(shop):
    """Being HR is the group membership; removing it closes the pages again."""
    client = client_for(shop.hr.user)
    assert client.get("/hr/periods/").status_code == 200
    shop.hr.user.groups.remove(Group.objects.get(name="hr"))
    client = client_for(shop.hr.user)
    assert client.get("/hr/periods/").status_code == 403


# --- a phone, in a real Chromium ------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = os.path.join(os.environ.get("ZTK_VAR_DIR", "var/test"), "screenshots")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
def test_hr_closes_a_period_on_a_phone(live_server, shop, client, monkeypatch):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    client.force_login(shop.hr.user)
    session = client.cookies["sessionid"].value
    shots = os.environ.get("ZTK_SCREENSHOTS")
    os.makedirs(SHOTS, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 375, "height": 800}, locale="en")
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            page.goto(f"{live_server.url}/hr/periods/")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            if shots:
                page.screenshot(path=f"{shots}/periods-index.png", full_page=True)
            page.goto(f"{live_server.url}{DETAIL}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            if shots:
                page.screenshot(path=f"{shots}/period-detail.png", full_page=True)
            page.get_by_role("button", name="Finalise the past days").click()
            page.wait_for_load_state()
            page.get_by_role("link", name="Review and close…").click()
            page.wait_for_load_state()
            assert page.locator("#still-open").is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            page.screenshot(path=f"{SHOTS}/period-confirm-375.png", full_page=True)
            page.set_viewport_size({"width": 1280, "height": 900})
            page.screenshot(path=f"{SHOTS}/period-confirm-1280.png", full_page=True)
            page.set_viewport_size({"width": 375, "height": 800})
            page.get_by_label("Cancel the 1 pending request", exact=False).check()
            page.get_by_label("I have reviewed", exact=False).check()
            page.get_by_role("button", name="Close the period").click()
            page.wait_for_load_state()
            assert page.locator("#period-status").inner_text() == "Closed"
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            if shots:
                page.screenshot(path=f"{shots}/period-closed.png", full_page=True)
        finally:
            browser.close()
    assert selectors.period_at(shop.group, NOV1).status == PeriodStatus.CLOSED


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_close_waits_for_a_submission_in_flight_and_then_finds_it_pending(
    org, time_machine, monkeypatch
):
    """A close that starts while a submission for the period is being written waits for it
    and then refuses (pending_corrections): never a pending request in a closed period."""
    import threading

    from django.db import connection

    from ztk.corrections import services as corrections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer anyway")
    time_machine.move_to(NOW, tick=False)
    for code, name in [("forgot", "忘记打卡"), ("device", "设备故障")]:
        ReasonCategory.objects.get_or_create(policy=None, code=code, defaults={"name": name})
    week_for(org)
    only_checkout(org.employee, NOV30)
    finalise(org)
    inside, go = threading.Event(), threading.Event()
    original = corrections.lock_quota

    def paused(employee, start):  # the submission holds its locks here
        inside.set()
        assert go.wait(20)
        return original(employee, start)

    monkeypatch.setattr(corrections, "lock_quota", paused)
    outcome: dict[str, str] = {}

    def submitting() -> None:
        try:
            submit(org.employee.user, org.employee, item(NOV30))
            outcome["submit"] = "accepted"
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            outcome["submit"] = repr(error)
        finally:
            connection.close()

    def closing() -> None:
        try:
            services.period_close(actor=org.hr.user, group=org.group, start=NOV1)
            outcome["close"] = "closed"
        except DomainError as error:
            outcome["close"] = error.code
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            outcome["close"] = repr(error)
        finally:
            connection.close()

    submitter = threading.Thread(target=submitting)
    submitter.start()
    assert inside.wait(20)
    closer = threading.Thread(target=closing)
    closer.start()
    closer.join(1.5)
    waited = closer.is_alive()
    go.set()
    submitter.join(20)
    closer.join(20)
    assert waited, f"the close did not wait for the submission: {outcome}"
    assert outcome == {"submit": "accepted", "close": refusals.PENDING_CORRECTIONS}
    assert selectors.period_at(org.group, NOV1).status == PeriodStatus.OPEN


# --- the close confirmation (issue 12: a missing check-out was closed silently) ---------------


def only_checkin(employee, day: date) -> None:
    record_punches(
        [
            PunchInput(
                at=at(day, 8, 55),
                source="device",
                employee_id=employee.pk,
                device_sn="SN1",
                pin=employee.employee_no,
            )
        ]
    )


def test_the_confirmation_lists_what_is_still_open_per_department(shop):
    org = shop
    only_checkin(org.employee, NOV27)  # 张三 came on Friday and never checked out
    finalise(org)
    review = selectors.close_review(group=org.group, start=NOV1)
    dept = next(d for d in review.departments if d.code == org.employee.department.code)
    assert dept.pending_requests == 1
    assert dept.missing_days >= 2  # Friday's check-out, Monday's check-in (not absent days)
    assert review.pending_requests == 1 and review.anything_open
    open_days = {(d.employee_no, d.day): d for dep in review.departments for d in dep.sample} | {
        (no, day): None for dep in review.departments for no, day in dep.days
    }
    assert (org.employee.employee_no, NOV27) in open_days

    page = client_for(org.hr.user).get(f"{DETAIL}confirm/").content.decode()
    assert "Still open" in page and org.employee.department.name in page
    assert 'name="confirm"' in page and review.token in page
    assert 'name="reviewed"' in page and "required" in page


def test_the_close_is_refused_without_the_confirmation(shop):
    org = shop
    finalise(org)
    with pytest.raises(DomainError) as excinfo:
        services.period_close(actor=org.hr.user, group=org.group, start=NOV1, cancel_pending=True)
    assert codes(excinfo) == refusals.CONFIRMATION_REQUIRED
    assert selectors.period_at(org.group, NOV1).status == PeriodStatus.OPEN
    org.request.refresh_from_db()
    assert org.request.status == Status.PENDING


def test_a_confirmation_that_went_stale_is_refused(shop):
    """HR reviewed the list; then a day changed (a manual add filled a slot): the close
    quoting the old list is refused, and the page shows the new one."""
    org = shop
    finalise(org)
    token = confirmed(org)
    manual_punch_add(
        actor=org.hr.user,
        employee=org.colleague,
        day=NOV27,
        times=[at(NOV27, 9)],
        remark="门禁记录核实后补录",
    )
    with pytest.raises(DomainError) as excinfo:
        services.period_close(
            actor=org.hr.user, group=org.group, start=NOV1, confirm=token, cancel_pending=True
        )
    assert codes(excinfo) == refusals.CONFIRMATION_STALE
    period = services.period_close(
        actor=org.hr.user, group=org.group, start=NOV1, confirm=confirmed(org), cancel_pending=True
    )
    assert period.status == PeriodStatus.CLOSED
    event = AuditEvent.objects.get(action="attendance.period.close")
    assert event.changes["still_open"][org.employee.department.code]["missing"] >= 1
