"""Bulk import of historical corrections (批量处理历史数据): the dry run lists every row as ok,
already imported or refused with its reason; the commit is all or nothing; re-importing the
same file adds nothing; CSV (BOM, GB18030) and XLSX; the HR pages.

A 09:00–18:00 shift every weekday; 张三 (1002) punched in at 08:55 on Monday 23 Nov 2026.
"Now" is Friday 27 Nov, 12:00 Shanghai.
"""

from __future__ import annotations

import csv
import io
import time as timer
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from ztk.attendance.models import AttendanceDay, AttendancePeriod
from ztk.audit.models import AuditEvent
from ztk.core import jobs, uploads
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.jobs import job_create, job_run
from ztk.core.models import Job
from ztk.corrections.models import CorrectionRequest
from ztk.corrections.services import used_in_period
from ztk.hrdesk import bulk_import as bi
from ztk.org.models import Employee
from ztk.punches.models import Punch
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import RosterEntry, Shift, ShiftSegment, WeeklyPattern

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=SH)
MON = date(2026, 11, 23)
TUE = date(2026, 11, 24)
SAT = date(2026, 11, 21)
HEADER = ["工号", "日期", "卡点", "时间", "原因", "外部编号"]


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(autouse=True)
def _temp_storage(settings, tmp_path):
    settings.VAR_DIR = tmp_path


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


def csv_bytes(rows, header=HEADER, encoding="utf-8", bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = ("\ufeff" if bom else "") + out.getvalue()
    return text.encode(encoding)


GOOD = [
    ["1002", "2026-11-23", "out1", "18:05", "考勤机故障，主管确认", "OA-1"],
    ["1003", "2026-11-24", "in1", "08:58", "忘记打卡（纸质记录）", ""],
    ["1003", "2026-11-24", "out1", "2026-11-24 18:30", "设备断电", "OA-2"],
]


def preview(data: bytes, actor=None):
    return bi.import_preview(actor=actor, data=data, filename="x.csv", now=NOW)


def commit(data: bytes, actor=None):
    return bi.import_commit(actor=actor, data=data, filename="x.csv", now=NOW)


def statuses(result) -> dict[int, tuple[str, str]]:
    return {r.line: (r.status, r.code) for r in result.rows}


def slot(employee, key: str, day: date) -> dict:
    row = AttendanceDay.objects.get(employee=employee, day=day)
    return next(s for s in row.slots if s["key"] == key)


# --------------------------------------------------------------------------- dry run


def test_the_dry_run_lists_every_row_with_its_reason_and_writes_nothing(shop):
    # given
    AttendancePeriod.objects.create(
        group=shop.group, start=date(2026, 10, 1), end=date(2026, 10, 31), status="closed"
    )
    shop.colleague.hire_date = TUE
    shop.colleague.save(update_fields=["hire_date"])
    rows = [
        ["1002", "2026-11-23", "out1", "18:05", "考勤机故障", ""],  # 2 ok
        ["9999", "2026-11-23", "out1", "18:05", "考勤机故障", ""],  # 3 unknown employee
        ["1002", "2026-13-01", "out1", "18:05", "考勤机故障", ""],  # 4 bad date
        ["1002", "2026-11-24", "out1", "25:61", "考勤机故障", ""],  # 5 bad time
        ["1002", "2026-11-24", "lunch", "12:00", "考勤机故障", ""],  # 6 bad slot
        ["1002", "2026-11-24", "out2", "18:05", "考勤机故障", ""],  # 7 slot not in the plan
        ["1002", "2026-11-21", "in1", "09:00", "考勤机故障", ""],  # 8 Saturday: no shift
        ["1002", "2026-11-24", "in1", "05:00", "考勤机故障", ""],  # 9 outside the window
        ["1002", "2026-11-27", "out1", "18:00", "考勤机故障", ""],  # 10 future
        ["1002", "2026-11-23", "下班", "18:10", "考勤机故障", ""],  # 11 same slot as line 2
        ["1002", "2026-11-23", "in1", "08:50", "考勤机故障", ""],  # 12 already punched 08:55
        ["1002", "2026-10-12", "in1", "08:50", "考勤机故障", ""],  # 13 period closed
        ["1002", "", "in1", "08:50", "考勤机故障", ""],  # 14 empty date
        ["1002", "2026-11-25", "in1", "08:50", "x", ""],  # 15 reason too short
        ["1003", "2026-11-23", "in1", "08:50", "考勤机故障", ""],  # 16 before hire date
    ]
    punches = Punch.objects.count()

    # when
    result = preview(csv_bytes(rows))

    # then
    assert statuses(result) == {
        2: ("ok", ""),
        3: ("refused", bi.UNKNOWN_EMPLOYEE),
        4: ("refused", bi.BAD_DATE),
        5: ("refused", bi.BAD_TIME),
        6: ("refused", bi.BAD_SLOT),
        7: ("refused", bi.SLOT_NOT_FOUND),
        8: ("refused", bi.SLOT_NOT_FOUND),
        9: ("refused", bi.TIME_OUTSIDE_SLOT_WINDOW),
        10: ("refused", bi.FUTURE_TIME),
        11: ("refused", bi.DUPLICATE_ROW),
        12: ("refused", bi.SLOT_ALREADY_PUNCHED),
        13: ("refused", bi.PERIOD_CLOSED),
        14: ("refused", bi.MISSING_VALUE),
        15: ("refused", bi.REASON_REQUIRED),
        16: ("refused", bi.BEFORE_HIRE_DATE),
    }
    messages = {r.line: r.message for r in result.rows}
    assert messages[3] == "No employee has the number 9999."
    assert messages[9] == "05:00 is outside the punch window of Check-in (07:00 – 13:30)."
    assert messages[11] == "The same employee, date and slot as line 2."
    assert messages[12] == "Check-in on 2026-11-23 already has a valid punch at 08:55."
    assert result.counts() == {"rows": 15, "ok": 1, "duplicate": 0, "refused": 14}
    assert not result.can_commit
    assert Punch.objects.count() == punches
    assert not AuditEvent.objects.filter(action=bi.AUDIT_ACTION).exists()


def test_file_level_refusals(shop):
    for data, code in [
        (b"", bi.EMPTY_FILE),
        (csv_bytes([], header=["工号", "日期"]), bi.MISSING_COLUMNS),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 40, bi.UNSUPPORTED_FILE),
        (b"PK\x03\x04not really a zip", bi.BAD_FILE),
    ]:
        with pytest.raises(DomainError) as refused:
            preview(data)
        assert refused.value.code == code


def test_slots_dates_and_times_are_read_in_their_usual_spellings():
    assert [bi.parse_slot(v) for v in ("in1", "OUT2", "上班", "下班卡", "签到", "check-out")] == [
        "in1",
        "out2",
        "in1",
        "out1",
        "in1",
        "out1",
    ]
    assert bi.parse_slot("上班", "2") == "in2"
    assert bi.parse_slot("上班2", "第2段") == "in2"
    assert bi.parse_slot("in1", "2") is None
    assert bi.parse_slot("午餐") is None
    for text in ("2026-11-23", "2026/11/23", "2026.11.23", "20261123", "2026年11月23日"):
        assert bi.parse_date(text) == MON, text
    assert bi.parse_date(46349) == MON  # Excel serial day
    assert bi.parse_time("8:05") == time(8, 5)
    assert bi.parse_time("2026-11-24 18:30") == datetime(2026, 11, 24, 18, 30)
    assert bi.parse_time(0.5) == time(12, 0)
    assert bi.parse_time("noon") is None


# --------------------------------------------------------------------------- commit


def test_commit_stores_every_row_as_an_import_punch_and_audits_the_batch(shop):
    # given
    data = csv_bytes(GOOD)

    # when
    result = commit(data, actor=shop.hr.user)

    # then
    assert (result.rows, result.new, result.duplicate) == (3, 3, 0)
    punches = list(Punch.objects.filter(source="history").order_by("at"))
    assert [(p.employee_id, p.at) for p in punches] == [
        (shop.employee.pk, at(MON, 18, 5)),
        (shop.colleague.pk, at(TUE, 8, 58)),
        (shop.colleague.pk, at(TUE, 18, 30)),
    ]
    assert punches[0].remark == "导入补卡 OA-1: 考勤机故障，主管确认"
    assert punches[0].created_by == shop.hr.user
    # the days are recomputed: the imported punches fill the slots
    assert slot(shop.employee, "out1", MON)["punch_id"] == punches[0].pk
    assert AttendanceDay.objects.get(employee=shop.colleague, day=TUE).status == "normal"
    # one batch event with the counts and the file's SHA-256
    event = AuditEvent.objects.get(action=bi.AUDIT_ACTION)
    assert event.actor_id == shop.hr.user.pk
    assert event.changes["sha256"] == bi.sha256_of(data)
    assert event.changes["after"] == {"rows": 3, "new": 3, "duplicate": 0, "refused": 0}
    assert event.changes["counts_against_quota"] is False
    punch_event = AuditEvent.objects.get(action=bi.PUNCH_AUDIT_ACTION)
    assert punch_event.changes["sha256"] == bi.sha256_of(data)
    # historical imports are no correction requests and use no quota
    assert not CorrectionRequest.objects.exists()
    assert used_in_period(shop.employee, date(2026, 11, 1)) == 0


def test_one_refused_row_writes_nothing(shop):
    rows = [*GOOD, ["9999", "2026-11-23", "out1", "18:05", "考勤机故障", ""]]
    punches = Punch.objects.count()
    with pytest.raises(DomainError) as refused:
        commit(csv_bytes(rows), actor=shop.hr.user)
    assert refused.value.code == bi.IMPORT_REFUSED
    assert [d["line"] for d in refused.value.details] == [5]
    assert Punch.objects.count() == punches
    assert not AuditEvent.objects.filter(action=bi.AUDIT_ACTION).exists()


def test_re_importing_the_same_file_adds_nothing(shop):
    data = csv_bytes(GOOD)
    commit(data)
    punches = Punch.objects.count()

    again = preview(data)
    assert again.counts() == {"rows": 3, "ok": 0, "duplicate": 3, "refused": 0}
    assert {r.code for r in again.rows} == {bi.ALREADY_IMPORTED}
    result = commit(data)

    assert (result.new, result.duplicate) == (0, 3)
    assert Punch.objects.count() == punches
    # the same rows in another file (another order, another encoding) add nothing either
    reordered = csv_bytes(list(reversed(GOOD)), encoding="gb18030")
    assert commit(reordered).new == 0
    assert Punch.objects.count() == punches


def test_a_partly_imported_file_adds_only_the_new_rows(shop):
    commit(csv_bytes(GOOD[:1]))
    result = commit(csv_bytes(GOOD))
    assert (result.new, result.duplicate) == (2, 1)


def test_only_hr_and_system_admins_import(shop):
    data = csv_bytes(GOOD)
    for outsider in (shop.employee.user, shop.supervisor.user, shop.auditor.user):
        with pytest.raises(PermissionDeniedError):
            preview(data, actor=outsider)
        with pytest.raises(PermissionDeniedError):
            commit(data, actor=outsider)
    assert preview(data, actor=shop.sysadmin).ok == 3


# --------------------------------------------------------------------------- formats


def test_csv_with_a_bom_and_english_headers(shop):
    header = ["employee_no", "date", "slot", "time", "reason", "reference"]
    assert preview(csv_bytes(GOOD, header=header, bom=True)).ok == 3


def test_gb18030_csv_with_chinese_headers_and_slots(shop):
    rows = [
        ["1003", "2026/11/24", "上班", "8:58", "忘记打卡", ""],
        ["1003", "2026/11/24", "下班", "18:30", "设备断电", ""],
    ]
    data = csv_bytes(rows, header=["员工编号", "考勤日期", "打卡类型", "补卡时间", "事由", "单号"])
    data = data.decode("utf-8").encode("gb18030")
    result = preview(data)
    assert statuses(result) == {2: ("ok", ""), 3: ("ok", "")}
    assert [r.slot_key for r in result.rows] == ["in1", "out1"]


def test_xlsx_with_date_and_time_cells(shop):
    # given a workbook as Excel writes it: date and time cells, a number as employee no
    book = Workbook()
    sheet = book.active
    sheet.append(["工号 employee_no", "日期 date", "卡点 slot", "班段 segment", "时间 time",
                  "原因 reason"])  # fmt: skip
    sheet.append([1002, datetime(2026, 11, 23), "下班", 1, time(18, 5), "考勤机故障"])
    sheet.append(["1003", date(2026, 11, 24), "in1", None, datetime(2026, 11, 24, 8, 58), "忘打"])
    out = io.BytesIO()
    book.save(out)

    # when
    result = commit(out.getvalue())

    # then
    assert result.new == 2
    assert Punch.objects.filter(source="history", at=at(MON, 18, 5)).exists()
    assert Punch.objects.filter(source="history", at=at(TUE, 8, 58)).exists()


def test_the_templates_are_read_back_by_the_importer(shop):
    header = bi.read_table(bi.template_csv())[0][1]
    assert set(bi.header_positions(header)) == set(bi.COLUMNS)
    book = load_workbook(io.BytesIO(bi.template_xlsx()), read_only=True)
    first = next(book.worksheets[0].iter_rows(values_only=True))
    assert set(bi.header_positions(first)) == set(bi.COLUMNS)
    assert [s.title for s in book.worksheets] == ["导入 Import", "说明 Help"]
    # the template's examples, pasted below its header, import as they are documented
    rows = [dict(zip(bi.COLUMNS, example, strict=True)) for example in bi.TEMPLATE_EXAMPLES]
    data = csv_bytes([list(r.values()) for r in rows], header=bi.TEMPLATE_HEADER)
    assert preview(data).counts()["ok"] == 3


def test_a_night_shift_check_out_time_lands_on_the_next_day(shop):
    night = Shift.objects.create(code="N", name="夜班")
    ShiftSegment.objects.create(shift=night, position=1, start=time(22), end=time(6))
    RosterEntry.objects.create(employee=shop.colleague, date=MON, shift=night)
    result = preview(csv_bytes([["1003", "2026-11-23", "out1", "06:10", "夜班下班忘打卡", ""]]))
    (row,) = result.rows
    assert (row.status, row.at) == ("ok", at(TUE, 6, 10))
    assert row.local_time == "11-24 06:10"


# --------------------------------------------------------------------------- scale


def test_a_thousand_rows_preview_and_commit_in_a_bounded_number_of_queries(shop):
    # given 50 more people and 1,000 rows: 20 weekdays of November × in1 and out1 … (N.B.
    # this is a sanity check of the shape, not a timed assertion)
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"bulk{i}", password="!") for i in range(50)])
    Employee.objects.bulk_create(
        [
            Employee(
                user=u,
                employee_no=f"B{i:03d}",
                name=f"员工{i}",
                department=shop.department,
                attendance_group=shop.group,
            )
            for i, u in enumerate(users)
        ]
    )
    days = [date(2026, 11, 2) + timedelta(days=i) for i in range(26)]
    days = [d for d in days if d.weekday() < 5][:10]
    rows = [
        [f"B{i:03d}", d.isoformat(), key, clock, "历史补卡数据", f"R{i}-{d}-{key}"]
        for i in range(50)
        for d in days
        for key, clock in (("in1", "08:59"), ("out1", "18:01"))
    ]
    data = csv_bytes(rows)
    assert len(rows) == 1000

    # when
    began = timer.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = preview(data)
    checked = timer.perf_counter() - began
    began = timer.perf_counter()
    outcome = commit(data)
    stored = timer.perf_counter() - began

    # then
    assert result.counts() == {"rows": 1000, "ok": 1000, "duplicate": 0, "refused": 0}
    assert len(queries) <= 40, len(queries)
    assert outcome.new == 1000
    assert AttendanceDay.objects.filter(employee__employee_no__startswith="B").count() >= 500
    print(f"\n1,000 rows: preview {checked:.2f} s, commit {stored:.2f} s")


# --------------------------------------------------------------------------- command


def test_the_command_checks_and_imports(shop, tmp_path, capsys):
    path = tmp_path / "corrections.csv"
    path.write_bytes(csv_bytes(GOOD))

    call_command("import-corrections", str(path), "--dry-run")
    assert "3 rows: 3 ok, 0 already imported, 0 refused" in capsys.readouterr().out
    assert not Punch.objects.filter(source="history").exists()

    call_command("import-corrections", str(path))
    assert "3 punches added" in capsys.readouterr().out
    assert Punch.objects.filter(source="history").count() == 3

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["9999", "2026-11-23", "out1", "18:05", "考勤机故障", ""]]))
    with pytest.raises(CommandError):
        call_command("import-corrections", str(bad))
    assert "line 2: refused [unknown_employee]" in capsys.readouterr().err


# --------------------------------------------------------------------------- pages


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def upload(data: bytes, name: str = "历史补卡.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_the_templates_download(shop):
    client = client_for(shop.hr.user)
    response = client.get(reverse("hrdesk:import_template_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff工号 employee_no".encode())
    response = client.get(reverse("hrdesk:import_template_xlsx"))
    assert response.status_code == 200
    assert response.content[:4] == b"PK\x03\x04"


def test_upload_preview_then_commit(shop):
    client = client_for(shop.hr.user)
    data = csv_bytes(GOOD)

    # when the file is uploaded, the check runs as a background job (inline in tests)
    response = client.post(reverse("hrdesk:import_preview"), {"file": upload(data)})
    assert response.status_code == 302
    job = Job.objects.get(kind=bi.JOB_PREVIEW)
    assert response["Location"] == reverse("hrdesk:import_job", args=[job.pk])

    # then its page lists every row, nothing is written, and the file waits for its commit
    response = client.get(response["Location"])
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="row-ok"') == 3
    assert f'value="{bi.sha256_of(data)}"' in body
    assert not Punch.objects.filter(source="history").exists()

    # when it is committed (again a background job)
    response = client.post(
        reverse("hrdesk:import_commit"), {"sha256": bi.sha256_of(data), "filename": "历史补卡.csv"}
    )

    # then
    assert response.status_code == 302
    assert Punch.objects.filter(source="history").count() == 3
    assert AuditEvent.objects.get(action=bi.AUDIT_ACTION).changes["filename"] == "历史补卡.csv"
    assert uploads.load(shop.hr.user.pk, bi.sha256_of(data)) is None  # discarded
    assert "Imported 3 punches; 0 rows were already imported." in (
        client.get(response["Location"]).content.decode()
    )


def test_a_refused_row_shows_in_the_preview_without_a_commit_button(shop):
    rows = [*GOOD, ["9999", "2026-11-23", "out1", "18:05", "考勤机故障", ""]]
    response = client_for(shop.hr.user).post(
        reverse("hrdesk:import_preview"), {"file": upload(csv_bytes(rows))}, follow=True
    )
    body = response.content.decode()
    assert "No employee has the number 9999." in body
    assert 'class="row-refused"' in body
    assert reverse("hrdesk:import_commit") not in body


def test_the_commit_checks_again_and_writes_nothing_when_a_row_became_refused(shop):
    client = client_for(shop.hr.user)
    data = csv_bytes(GOOD)
    client.post(reverse("hrdesk:import_preview"), {"file": upload(data)})
    # meanwhile the November period is closed
    AttendancePeriod.objects.create(
        group=shop.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status="closed"
    )
    response = client.post(
        reverse("hrdesk:import_commit"), {"sha256": bi.sha256_of(data)}, follow=True
    )
    body = response.content.decode()
    assert "3 rows are refused; nothing was imported." in body
    assert body.count("The attendance period 2026-11-01 – 2026-11-30 is closed.") == 3
    assert not Punch.objects.filter(source="history").exists()
    assert Job.objects.get(kind=bi.JOB_COMMIT).status == "failed"


def test_the_commit_needs_the_uploaders_own_recent_file(shop):
    data = csv_bytes(GOOD)
    client_for(shop.hr.user).post(reverse("hrdesk:import_preview"), {"file": upload(data)})
    # another admin cannot commit it, nor can anyone commit a made-up hash
    other = client_for(shop.sysadmin)
    response = other.post(reverse("hrdesk:import_commit"), {"sha256": bi.sha256_of(data)})
    assert response.status_code == 302
    assert response["Location"] == reverse("hrdesk:import")
    response = other.post(reverse("hrdesk:import_commit"), {"sha256": "../../etc/passwd"})
    assert response.status_code == 302
    assert not Punch.objects.filter(source="history").exists()
    # nor see the other admin's job
    job = Job.objects.get(kind=bi.JOB_PREVIEW)
    assert other.get(reverse("hrdesk:import_job", args=[job.pk])).status_code == 404
    assert other.get(reverse("hrdesk:import_job_status", args=[job.pk])).status_code == 404


def test_an_unreadable_upload_is_refused_on_the_page(shop):
    response = client_for(shop.hr.user).post(
        reverse("hrdesk:import_preview"), {"file": upload(b"a,b\n1,2\n")}, follow=True
    )
    assert "Columns missing from the header row" in response.content.decode()
    assert 'name="file"' in response.content.decode()  # the upload form, to try again


def test_the_progress_bar_polls_until_the_job_is_done(shop, settings):
    """While the worker has not finished, the job page shows a progress bar that htmx
    polls; the poll answers with a refresh once the job is done."""
    client = client_for(shop.hr.user)
    sha256 = uploads.stash(shop.hr.user.pk, csv_bytes(GOOD))
    job = job_create(
        owner=shop.hr.user, kind=bi.JOB_PREVIEW, params={"sha256": sha256, "filename": "x.csv"}
    )
    jobs.report(job.pk, bi.CHECKING, 1, 3)

    page = client.get(reverse("hrdesk:import_job", args=[job.pk])).content.decode()
    status_url = reverse("hrdesk:import_job_status", args=[job.pk])
    assert f'hx-get="{status_url}"' in page and 'hx-trigger="every 1s"' in page
    assert '<progress max="100" value="33"' in page
    assert "Checking rows…" in page and "1 of 3 rows" in page

    poll = client.get(status_url, headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "HX-Refresh" not in poll
    assert '<progress max="100" value="33"' in poll.content.decode()

    job_run(job.pk, bi.run_job)
    poll = client.get(status_url, headers={"HX-Request": "true"})
    assert poll["HX-Refresh"] == "true"
    assert (
        client.get(reverse("hrdesk:import_job", args=[job.pk]))
        .content.decode()
        .count('class="row-ok"')
        == 3
    )


def test_a_job_whose_worker_died_is_shown_as_interrupted(shop, time_machine):
    job = job_create(owner=shop.hr.user, kind=bi.JOB_PREVIEW, params={"sha256": "0" * 64})
    time_machine.shift(jobs.STALE_AFTER.total_seconds() + 60)
    page = client_for(shop.hr.user).get(reverse("hrdesk:import_job", args=[job.pk]))
    assert "The job stopped without finishing" in page.content.decode()
    assert "hx-get" not in page.content.decode()


def test_the_import_pages_are_for_hr_and_system_admins(shop):
    get_pages = [
        reverse("hrdesk:import"),
        reverse("hrdesk:import_template_csv"),
        reverse("hrdesk:import_template_xlsx"),
    ]
    for url in get_pages:
        assert client_for(shop.hr.user).get(url).status_code == 200
        for outsider in (shop.employee.user, shop.supervisor.user, shop.auditor.user):
            assert client_for(outsider).get(url).status_code == 403, url
    data = csv_bytes(GOOD)
    for outsider in (shop.employee.user, shop.supervisor.user):
        client = client_for(outsider)
        assert (
            client.post(reverse("hrdesk:import_preview"), {"file": upload(data)}).status_code == 403
        )
        assert (
            client.post(reverse("hrdesk:import_commit"), {"sha256": bi.sha256_of(data)}).status_code
            == 403
        )
    assert Client().get(reverse("hrdesk:import")).status_code == 302


# --------------------------------------------------------------------------- in the reports


def test_an_imported_correction_is_a_correction_in_the_reports(shop):
    """Issue 12: imported historical corrections showed as plain 正常. They are 补卡 with
    their source, whatever their time, and count in 补卡次数 like any correction."""
    from ztk.reports import export
    from ztk.reports.summary import daily_detail, department_totals, monthly_summary

    # a check-in at 09:10 on a 09:00 shift, brought in from the paper records
    commit(csv_bytes([["1003", "2026-11-24", "in1", "09:10", "纸质签到表", "OA-9"]]))
    assert slot(shop.colleague, "in1", TUE)["status"] == "corrected"
    day = AttendanceDay.objects.get(employee=shop.colleague, day=TUE)
    assert (day.corrected_count, day.late_count) == (1, 0)

    start, end = date(2026, 11, 1), date(2026, 11, 30)
    (row,) = [r for r in monthly_summary(period_start=start, period_end=end)
              if r.employee_no == shop.colleague.employee_no]  # fmt: skip
    assert row.corrected_count == 1
    detail = {
        (r.employee_no, r.date): r
        for r in daily_detail(period_start=start, period_end=end, lang="zh-hans")
    }
    assert detail[(shop.colleague.employee_no, TUE)].slots["in1"] == "09:10 补卡(导入)"
    detail_en = {
        (r.employee_no, r.date): r
        for r in daily_detail(period_start=start, period_end=end, lang="en")
    }
    assert detail_en[(shop.colleague.employee_no, TUE)].slots["in1"] == "09:10 Corrected (import)"

    summaries = monthly_summary(period_start=start, period_end=end)
    departments, grand = department_totals(summaries)
    content = export.xlsx_report(
        summaries=summaries,
        departments=departments,
        grand_total=grand,
        detail=daily_detail(period_start=start, period_end=end, lang="zh-hans"),
    )
    book = load_workbook(io.BytesIO(content), read_only=True)
    cells = [c for ws in book.worksheets for r in ws.iter_rows(values_only=True) for c in r]
    assert "09:10 补卡(导入)" in cells
    summary = list(book["月度汇总"].iter_rows(values_only=True))
    column = summary[0].index("补卡次数")
    (mine,) = [r for r in summary[1:] if str(r[0]) == shop.colleague.employee_no]
    assert mine[column] == 1
