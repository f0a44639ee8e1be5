"""/settings/schedules/: weekly patterns and the roster month grid (HR changes, auditors read).

The organisation is tests/factories.small_org (group STD; 张三 is 1002, 李四 1003). December
2026 starts on a Tuesday.
"""

from __future__ import annotations

import re
from datetime import date, time

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from ztk.attendance.models import AttendanceDay
from ztk.audit.models import AuditEvent
from ztk.scheduling.models import RosterEntry, Shift, ShiftSegment, WeeklyPattern

pytestmark = pytest.mark.django_db
GRID = "/settings/schedules/roster/"
DEC = "?group=STD&month=2026-12"


def _shift(code: str, start: int, end: int, *, active: bool = True) -> Shift:
    shift = Shift.objects.create(code=code, name=f"班次{code}", active=active)
    ShiftSegment.objects.create(shift=shift, position=1, start=time(start), end=time(end))
    return shift


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel("2026-12-05 10:00 +0800", tick=False):
        yield


@pytest.fixture
def week(org):
    """STD works D9 Monday–Friday since always; N8 is a night shift for rosters."""
    d9 = _shift("D9", 9, 18)
    _shift("N8", 22, 6)
    WeeklyPattern.objects.create(
        group=org.group, **{f"{d}_shift": d9 for d in ("monday", "tuesday", "wednesday")},
        thursday_shift=d9, friday_shift=d9,
    )  # fmt: skip
    return org


def _cell(html: str, number: str, day: str) -> str:
    """The grid cell of one employee-date: its class and text."""
    row = re.search(rf'<tr id="row-{number}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    cell = re.search(rf'<td class="([^"]*)"[^>]*data-day="{day}">(.*?)</td>', row, re.S)
    return f"{cell.group(1)}|{re.sub(r'<[^>]+>', '', cell.group(2)).strip()}"


def _grid(client) -> str:
    response = client.get(GRID + DEC)
    assert response.status_code == 200
    return response.content.decode()


def _post(client, name: str, **body):
    return client.post(f"{GRID}{name}/", {"group": "STD", "month": "2026-12", **body})


def test_the_grid_shows_the_pattern_faint_and_a_roster_entry_bold(client, week):
    RosterEntry.objects.create(employee=week.employee, date=date(2026, 12, 1), shift=None)
    RosterEntry.objects.create(
        employee=week.employee, date=date(2026, 12, 5), shift=Shift.objects.get(code="N8")
    )
    client.force_login(week.hr.user)

    html = _grid(client)

    assert _cell(html, "1002", "2026-12-01") == "k-rest override|休"  # a Tuesday rostered off
    assert _cell(html, "1002", "2026-12-05") == "k-work override|N8"  # a Saturday worked
    assert _cell(html, "1003", "2026-12-01") == "k-work pattern|D9"
    assert _cell(html, "1003", "2026-12-05") == "k-rest pattern|休"
    assert 'id="unplanned"' not in html


def test_the_grid_reads_a_fixed_number_of_queries_whatever_its_size(
    client, week, django_assert_max_num_queries
):
    from tests.factories import EmployeeFactory

    for n in range(40):
        EmployeeFactory(attendance_group=week.group, employee_no=f"7{n:03d}")
    client.force_login(week.hr.user)

    with django_assert_max_num_queries(25):
        html = _grid(client)

    assert html.count('<tr id="row-') == 47


def test_hr_sets_one_cell_and_the_day_is_recomputed(
    client, week, django_capture_on_commit_callbacks
):
    client.force_login(week.hr.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, "set", employee="1002", day="2026-12-03", value="N8")

    assert response.status_code == 302 and response["Location"].startswith(GRID)
    entry = RosterEntry.objects.get(employee=week.employee, date=date(2026, 12, 3))
    assert entry.shift.code == "N8"
    assert AuditEvent.objects.filter(action="scheduling.roster.apply").count() == 1
    stored = AttendanceDay.objects.get(employee=week.employee, day=date(2026, 12, 3))
    assert stored.shift_code == "N8"  # the stored day was recomputed with the new plan
    assert _cell(_grid(client), "1002", "2026-12-03") == "k-work override|N8"
    # back to the pattern: the entry goes
    _post(client, "set", employee="1002", day="2026-12-03", value="")
    assert not RosterEntry.objects.filter(employee=week.employee).exists()


def test_the_cell_form_works_without_javascript(client, week):
    client.force_login(week.hr.user)

    html = client.get(GRID + DEC + "&cell=1002:2026-12-03").content.decode()

    dialog = re.search(r'<dialog id="set-cell"[^>]*>(.*?)</dialog>', html, re.S)
    assert " open" in re.search(r'<dialog id="set-cell"[^>]*>', html).group(0)
    assert 'name="employee" value="1002"' in dialog.group(1)
    assert 'name="day" value="2026-12-03"' in dialog.group(1)
    assert "<script>" not in html  # CSP: the click handler is a static file
    assert "setup/roster.js" in html


def test_fill_a_range_for_the_ticked_people_on_some_weekdays(client, week):
    client.force_login(week.hr.user)

    response = client.post(
        f"{GRID}fill/",
        {
            "group": "STD",
            "month": "2026-12",
            "employees": ["1002", "1003"],
            "start": "2026-12-01",
            "end": "2026-12-14",
            "weekdays": ["5", "6"],
            "value": "D9",
        },
    )

    assert response.status_code == 302
    got = set(RosterEntry.objects.values_list("employee__employee_no", "date"))
    weekend = {date(2026, 12, d) for d in (5, 6, 12, 13)}
    assert got == {(n, d) for n in ("1002", "1003") for d in weekend}


def test_copy_last_month_keeps_the_weekdays(client, week):
    n8 = Shift.objects.get(code="N8")
    # November: 张三 works nights on Tuesday 3 Nov and Monday 30 Nov
    RosterEntry.objects.create(employee=week.employee, date=date(2026, 11, 3), shift=n8)
    RosterEntry.objects.create(employee=week.employee, date=date(2026, 11, 30), shift=n8)
    # a December entry with no November source goes back to the pattern
    RosterEntry.objects.create(employee=week.employee, date=date(2026, 12, 10), shift=None)
    client.force_login(week.hr.user)
    preview = re.search(r'id="copy-preview">([^<]*)<', _grid(client)).group(1)

    response = _post(client, "copy")

    assert response.status_code == 302
    december = dict(RosterEntry.objects.filter(date__month=12).values_list("date", "shift__code"))
    # Tue 1 Dec copies Tue 3 Nov; Mon 28 Dec copies Mon 30 Nov
    assert december == {date(2026, 12, 1): "N8", date(2026, 12, 28): "N8"}
    assert date(2026, 12, 1).weekday() == date(2026, 11, 3).weekday()
    assert AuditEvent.objects.filter(action="scheduling.roster.copy").count() == 1
    assert "3" in preview  # the page said beforehand: 1 and 28 Dec set, 10 Dec cleared
    assert 'id="copy-preview">' in _grid(client) and " disabled>" in _grid(client)


def _upload(client, text: str, **more):
    file = SimpleUploadedFile("roster.csv", text.encode("utf-8"), content_type="text/csv")
    return client.post(f"{GRID}import/", {"group": "STD", "month": "2026-12", "file": file, **more})


def test_csv_export_then_import_round_trip(client, week):
    RosterEntry.objects.create(employee=week.employee, date=date(2026, 12, 1), shift=None)
    client.force_login(week.hr.user)

    exported = client.get(f"{GRID}export/{DEC}")

    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("employee_no,name,2026-12-01,2026-12-02")
    zhang = next(line for line in lines if line.startswith("1002,"))
    assert zhang.split(",")[2] == "休" and zhang.split(",")[3] == ""
    # the same file again changes nothing
    same = _upload(client, text)
    assert same.status_code == 200
    assert "0 天将会变化" in same.content.decode()
    # edited: 张三 back to the pattern on 1 Dec, 李四 on nights on 2 Dec
    edited = text.replace("1002,张三,休,", "1002,张三,,")
    edited = re.sub(r"^(1003,李四,),", r"\1,N8", edited, flags=re.M)
    edited = re.sub(r"^(1003,李四,,N8)", r"\1", edited, flags=re.M)
    checked = _upload(client, edited)
    body = checked.content.decode()
    assert checked.status_code == 200 and "2 天将会变化" in body
    assert RosterEntry.objects.count() == 1  # a dry run writes nothing
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', body).group(1)
    applied = client.post(
        f"{GRID}import/",
        {"group": "STD", "month": "2026-12", "sha256": sha, "filename": "roster.csv", "apply": "1"},
    )
    assert applied.status_code == 302
    assert set(RosterEntry.objects.values_list("employee__employee_no", "date", "shift__code")) == {
        ("1003", date(2026, 12, 2), "N8")
    }


def test_an_import_with_errors_lists_each_line_and_writes_nothing(client, week):
    Shift.objects.filter(code="N8").update(active=False)
    client.force_login(week.hr.user)
    text = (
        "employee_no,name,2026-12-01,2026-12-02\r\n"
        "1002,张三,D9,XX\r\n"
        "9999,无名,D9,\r\n"
        "1003,李四,休,N8\r\n"
    )

    response = _upload(client, text)

    body = response.content.decode()
    assert response.status_code == 422
    assert "第 2 行" in body and "XX" in body
    assert "第 3 行" in body and "9999" in body
    assert not RosterEntry.objects.exists()
    # only the retired shift left: refused by the service, on its line
    fixed = text.replace(",XX", ",").replace("9999,无名,D9,\r\n", "")
    response = _upload(client, fixed)
    body = response.content.decode()
    assert response.status_code == 422
    assert "第 3 行: 2026-12-02: " in body and "N8" in body
    assert not RosterEntry.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="scheduling.roster").exists()


def test_a_warning_lists_people_without_a_plan(client, week):
    from tests.factories import AttendanceGroupFactory, EmployeeFactory

    bare = AttendanceGroupFactory(code="NEW", name="新组")
    EmployeeFactory(attendance_group=bare, employee_no="5001", name="孙七")
    WeeklyPattern.objects.create(
        group=bare, effective_from=date(2026, 12, 15), monday_shift=Shift.objects.get(code="D9")
    )
    client.force_login(week.hr.user)

    html = client.get(GRID + "?group=NEW&month=2026-12").content.decode()

    warning = re.search(r'<section[^>]*id="unplanned".*?</section>', html, re.S).group(0)
    assert "孙七 (5001): 12-01–12-14" in warning
    assert _cell(html, "5001", "2026-12-14") == "k-none pattern|!"
    assert _cell(html, "5001", "2026-12-15") == "k-rest pattern|休"


def test_hr_edits_a_weekly_pattern_from_a_date(client, week):
    client.force_login(week.hr.user)
    days = {f"day-{i}": "D9" for i in range(6)}  # Monday–Saturday

    response = client.post(
        "/settings/schedules/patterns/STD/",
        {"effective_from": "2027-01-01", **days, "day-6": "", "use_work_calendar": "1"},
    )

    assert response.status_code == 302
    versions = list(WeeklyPattern.objects.filter(group=week.group).order_by("effective_from"))
    assert [v.effective_from for v in versions] == [date(2000, 1, 1), date(2027, 1, 1)]
    assert versions[1].saturday_shift.code == "D9" and versions[1].sunday_shift is None
    assert versions[0].saturday_shift is None  # the old version keeps governing 2026
    page = client.get("/settings/schedules/patterns/STD/").content.decode()
    assert "2027-01-01" in page
    refused = client.post(
        "/settings/schedules/patterns/STD/", {"effective_from": "2027-01-01", "day-0": "NOPE"}
    )
    assert refused.status_code == 422 and "NOPE" in refused.content.decode()


def test_the_auditor_reads_but_cannot_change(client, week):
    client.force_login(week.auditor.user)

    html = _grid(client)
    pattern = client.get("/settings/schedules/patterns/STD/")

    assert "D9" in html and 'id="fill-form"' not in html and 'id="set-cell"' not in html
    assert pattern.status_code == 200 and "保存周排班规则" not in pattern.content.decode()
    assert client.get(f"{GRID}export/{DEC}").status_code == 200
    assert _post(client, "set", employee="1002", day="2026-12-03", value="N8").status_code == 403
    assert _post(client, "copy").status_code == 403
    assert not RosterEntry.objects.exists()


def test_the_settings_index_links_the_schedules(client, week):
    client.force_login(week.hr.user)

    html = client.get("/settings/").content.decode()

    assert 'href="/settings/schedules/"' in html
    assert client.get("/settings/schedules/").status_code == 200


def test_a_new_groups_first_pattern_starts_today_so_new_members_keep_yesterday(
    client, org, django_capture_on_commit_callbacks
):
    """Found in the setup walk (test_setup_from_nothing_browser): the first pattern of a
    new group defaulted to "always", so people moved in on Wednesday got Tuesday judged
    by it (旷工, two 缺卡) although they worked Tuesday in no group. The form now offers
    today; "always" (2000-01-01) stays one typed date away."""
    from tests import factories

    _shift("D9", 9, 18)
    newcomer = factories.EmployeeFactory(employee_no="7001", attendance_group=None)
    with time_machine.travel("2026-12-09 08:50 +0800", tick=False):
        client.force_login(org.hr.user)
        created = client.post(
            "/settings/groups/new/",
            {"code": "CD", "name": "成都", "time_zone": "Asia/Shanghai",
             "day_boundary_hour": "4", "active": "1", "web_punch_enabled": "1",
             "outside_rule": "field"},
        )  # fmt: skip
        assert created.status_code == 302, created.content.decode()[-3000:]
        page = client.get("/settings/schedules/patterns/CD/").content.decode()
        offered = re.search(r"name=\"effective_from\" value=\"([^\"]*)\"", page).group(1)
        assert offered == "2026-12-09"
        client.post(
            "/settings/schedules/patterns/CD/",
            {"effective_from": offered, **{f"day-{i}": "D9" for i in range(5)},
             "use_work_calendar": "1"},
        )  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            added = client.post(
                "/settings/groups/CD/members/add/", {"how": "person", "person": "7001"}
            )
        assert added.status_code == 302, re.findall(
            r'class="errors"[^>]*>([^<]*)', added.content.decode()
        )

    newcomer.refresh_from_db()
    assert newcomer.attendance_group.code == "CD"
    tuesday = AttendanceDay.objects.filter(employee=newcomer, day=date(2026, 12, 8)).first()
    assert tuesday is None or tuesday.status == "rest"
