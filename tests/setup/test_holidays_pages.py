"""/settings/holidays/<year>/: HR sees the year's 节假日 and 调休 on a calendar, edits a
day, imports chinese-calendar's data; auditors read; years without data are warned about."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ztk.audit.models import AuditEvent
from ztk.scheduling import hooks
from ztk.scheduling.models import CalendarYear, WorkCalendarDay

pytestmark = pytest.mark.django_db


def url(year: int, tail: str = "") -> str:
    return f"/settings/holidays/{year}/{tail}"


@pytest.fixture
def client():
    """Pages in English (the default is zh-hans): the assertions read the English text."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def hr(client, org):
    client.force_login(org.hr.user)
    return client


@pytest.fixture
def recomputed():
    """The schedule changes handed to the recompute (what attendance would recompute)."""
    seen: list[hooks.ScheduleChange] = []

    def catch(changes):
        seen.extend(changes)

    hooks.connect(catch)
    yield seen
    hooks.disconnect(catch)


def test_the_year_shows_twelve_months_with_holidays_and_make_up_days(hr):
    body = hr.get(url(2026)).content.decode()

    assert body.count('class="cal-month"') == 12
    # 国庆节 (1–8 October 2026) is a holiday; Sunday 9 August is not marked
    assert re.search(r'<td class="holiday" title="[^"]*国庆节">', body)
    assert 'id="day-2026-10-01"' in body and "国庆节" in body
    assert 'class="workday"' in body  # the make-up workdays of 2026
    assert "package-warning" not in body and "fallback-warning" not in body
    assert "Import from chinesecalendar" in body


def test_a_year_chinese_calendar_does_not_cover_is_warned_about(hr):
    body = hr.get(url(2031)).content.decode()

    assert 'id="package-warning"' in body and "no data for 2031" in body
    assert 'id="fallback-warning"' in body
    assert "Import from chinesecalendar" not in body  # nothing to import
    assert "No holidays or make-up workdays in this year." in body


def test_hr_adds_changes_and_removes_a_day_and_the_day_is_recomputed(
    hr, recomputed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        added = hr.post(url(2026), {"date": "2026-06-18", "kind": "holiday", "name": "司庆"})
    assert added.status_code == 302 and added["Location"].endswith("#day-2026-06-18")
    row = WorkCalendarDay.objects.get(date=date(2026, 6, 18))
    assert (row.kind, row.name, row.source) == ("holiday", "司庆", "manual")
    assert [c.dates for c in recomputed] == [frozenset({date(2026, 6, 18)})]
    page = hr.get(added["Location"]).content.decode()
    assert "司庆" in page and 'id="day-2026-06-18"' in page

    # the calendar's link opens the form with the day filled in
    form = hr.get(url(2026) + "?day=2026-06-18").content.decode()
    assert 'value="2026-06-18"' in form and 'value="司庆"' in form

    hr.post(url(2026), {"date": "2026-06-18", "kind": "workday", "name": "司庆调休"})
    assert WorkCalendarDay.objects.get(date=date(2026, 6, 18)).kind == "workday"

    with django_capture_on_commit_callbacks(execute=True):
        removed = hr.post(url(2026), {"date": "2026-06-18", "action": "remove"})
    assert removed.status_code == 302
    assert not WorkCalendarDay.objects.filter(date=date(2026, 6, 18)).exists()
    assert [e.action for e in AuditEvent.objects.order_by("seq")][-3:] == [
        "scheduling.calendar.set",
        "scheduling.calendar.set",
        "scheduling.calendar.delete",
    ]


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"date": "2027-01-01", "kind": "holiday"}, "2027-01-01 is not in 2026."),
        ({"date": "1 May", "kind": "holiday"}, "is not a date (YYYY-MM-DD)"),
        ({"date": "2026-05-01", "kind": "weekend"}, "Choose a holiday or a make-up workday."),
        ({"date": "2026-05-01", "kind": "holiday", "name": "x" * 61}, "longer than 60"),
    ],
)
def test_a_bad_day_is_refused_with_what_was_typed_kept(hr, posted, message):
    before = AuditEvent.objects.count()

    response = hr.post(url(2026), posted)

    assert response.status_code == 422
    body = response.content.decode()
    assert message in body
    assert f'value="{posted["date"]}"' in body
    assert AuditEvent.objects.count() == before
    assert not WorkCalendarDay.objects.filter(date=date(2026, 5, 1), source="manual").exists()


def test_the_import_button_runs_the_seed_and_keeps_hand_entered_days(hr):
    WorkCalendarDay.objects.filter(date=date(2026, 10, 1)).delete()
    hr.post(url(2026), {"date": "2026-06-18", "kind": "holiday", "name": "司庆"})

    response = hr.post(url(2026, "import/"), follow=True)

    assert response.status_code == 200
    assert "1 added" in response.content.decode()
    assert WorkCalendarDay.objects.get(date=date(2026, 10, 1)).source == "seed"
    assert WorkCalendarDay.objects.get(date=date(2026, 6, 18)).source == "manual"
    assert AuditEvent.objects.filter(action="scheduling.calendar.seed").count() == 1


def test_the_import_of_an_uncovered_year_says_so(hr):
    response = hr.post(url(2031, "import/"), follow=True)

    assert "has no data for 2031" in response.content.decode()
    assert CalendarYear.objects.get(year=2031).status == "fallback"


def test_the_auditor_reads_but_cannot_change(client, org):
    client.force_login(org.auditor.user)

    page = client.get(url(2026)).content.decode()

    assert "国庆节" in page and 'id="day-form"' not in page and "import/" not in page
    assert client.post(url(2026), {"date": "2026-06-18", "kind": "holiday"}).status_code == 403
    assert client.post(url(2026, "import/")).status_code == 403
    assert not WorkCalendarDay.objects.filter(date=date(2026, 6, 18)).exists()


def test_an_employee_may_not_open_it(client, org):
    client.force_login(org.employee.user)
    assert client.get(url(2026)).status_code == 403


def test_a_year_out_of_range_is_not_found(hr):
    assert hr.get(url(1899)).status_code == 404
    assert hr.get(url(3000)).status_code == 404


def test_holidays_without_a_year_opens_this_year(hr):
    with time_machine.travel("2026-12-05 10:00 +0800", tick=False):
        response = hr.get("/settings/holidays/")
    assert response.status_code == 302 and response["Location"] == url(2026)


@time_machine.travel("2026-12-05 10:00 +0800", tick=False)
def test_the_hr_home_page_links_the_warning_to_the_year_page(hr):
    body = hr.get("/hr/").content.decode()

    assert "2027 has no official holiday arrangement yet" in body
    assert 'href="/settings/holidays/2027/"' in body
    assert "import-calendar" not in body


def test_hr_confirms_the_days_of_an_uncovered_year_and_the_warning_stops(hr, org):
    with time_machine.travel("2026-12-05 10:00 +0800", tick=False):
        hr.post(url(2027), {"date": "2027-01-01", "kind": "holiday", "name": "元旦"})
        assert "2027 has no official" in hr.get("/hr/").content.decode()

        response = hr.post(url(2027, "confirm/"), follow=True)

        body = response.content.decode()
        assert "confirmed as complete" in body and 'id="fallback-warning"' not in body
        assert "2027 has no official" not in hr.get("/hr/").content.decode()
    assert CalendarYear.objects.get(year=2027).status == "imported"
    assert AuditEvent.objects.filter(action="scheduling.calendar.confirm").count() == 1
    # twice changes nothing
    hr.post(url(2027, "confirm/"))
    assert AuditEvent.objects.filter(action="scheduling.calendar.confirm").count() == 1


def test_the_auditor_may_not_confirm(client, org):
    client.force_login(org.auditor.user)
    assert client.post(url(2031, "confirm/")).status_code == 403
    assert "confirm/" not in client.get(url(2031)).content.decode()


def csv(text: str, name: str = "2027.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_hr_imports_a_year_from_a_csv_file(hr, recomputed, django_capture_on_commit_callbacks):
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-20,workday,春节\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post(url(2027, "import-file/"), {"file": csv(text)}, follow=True)

    assert "Imported 2 days: 2 added" in response.content.decode()
    assert list(
        WorkCalendarDay.objects.filter(date__year=2027).values_list("date", "kind", "source")
    ) == [(date(2027, 1, 1), "holiday", "import"), (date(2027, 2, 20), "workday", "import")]
    assert CalendarYear.objects.get(year=2027).status == "imported"
    assert recomputed and recomputed[0].dates == {date(2027, 1, 1), date(2027, 2, 20)}


def test_a_bad_csv_file_lists_every_bad_line_and_imports_nothing(hr):
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2026-05-01,holiday,劳动节\n2027-03-01,off,x\n"

    response = hr.post(url(2027, "import-file/"), {"file": csv(text)})

    assert response.status_code == 422
    body = response.content.decode()
    assert "line 3 [date]: 2026-05-01 is not in 2027." in body
    assert "line 4 [kind]" in body
    assert not WorkCalendarDay.objects.filter(date__year=2027).exists()
    assert hr.post(url(2027, "import-file/"), {}).status_code == 422
    big = csv("date,kind,name\n" + "x" * 70_000)
    assert "larger than 64 KB" in hr.post(url(2027, "import-file/"), {"file": big}).content.decode()


def test_statutory_days_are_marked_with_their_overtime_rate(hr):
    body = hr.get(url(2026)).content.decode()

    # Oct 1–3 are the law's festival days (法, 3×); Oct 4–7 are days off of the period (2×)
    assert re.search(r'<td class="holiday statutory" title="[^"]*国庆节">', body)
    oct1 = body[body.index('id="day-2026-10-01"') :]
    assert "statutory holiday" in oct1[:600] and "3×" in oct1[:600]
    oct4 = body[body.index('id="day-2026-10-04"') :]
    assert "2×" in oct4[:600] and "statutory holiday" not in oct4[:600]
    sep20 = body[body.index('id="day-2026-09-20"') :]
    assert "1.5×" in sep20[:600]
    assert "13 statutory" in body  # in the year's summary


def test_hr_sets_and_clears_the_flag_and_the_day_is_recomputed(
    hr, recomputed, django_capture_on_commit_callbacks
):
    day = date(2026, 10, 4)
    # the form opens with the stored flag chosen
    form = hr.get(url(2026) + "?day=2026-10-04").content.decode()
    assert '<option value="no" selected>' in form

    with django_capture_on_commit_callbacks(execute=True):
        hr.post(
            url(2026),
            {"date": "2026-10-04", "kind": "holiday", "name": "国庆节", "statutory": "yes"},
        )
    assert WorkCalendarDay.objects.get(date=day).statutory
    assert [c.dates for c in recomputed] == [frozenset({day})]
    event = AuditEvent.objects.filter(action="scheduling.calendar.set").latest("seq")
    assert (event.changes["before"]["statutory"], event.changes["after"]["statutory"]) == (
        False,
        True,
    )

    # "by the law's festival days": Oct 4 is not one
    hr.post(url(2026), {"date": "2026-10-04", "kind": "holiday", "name": "国庆节", "statutory": ""})
    assert not WorkCalendarDay.objects.get(date=day).statutory

    refused = hr.post(url(2026), {"date": "2026-10-04", "kind": "workday", "statutory": "yes"})
    assert refused.status_code == 422
    assert "A make-up workday is never statutory." in refused.content.decode()
    assert WorkCalendarDay.objects.get(date=day).kind == "holiday"


def test_a_csv_file_with_the_statutory_column(hr):
    content = (
        "date,kind,name,statutory\n2027-10-01,holiday,国庆节,yes\n2027-10-04,holiday,国庆节,no\n"
    )
    upload = SimpleUploadedFile("2027.csv", content.encode(), content_type="text/csv")

    reply = hr.post(url(2027, "import-file/"), {"file": upload})

    assert reply.status_code == 302
    assert dict(
        WorkCalendarDay.objects.filter(date__year=2027).values_list("date", "statutory")
    ) == {date(2027, 10, 1): True, date(2027, 10, 4): False}
