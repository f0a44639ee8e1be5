"""USB export and CSV/XLSX punch imports, through the management commands."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO, StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from tests import factories
from ztk.audit.models import AuditEvent
from ztk.devices.models import DeviceStatus, HeldPunch
from ztk.punches.models import Punch

from .conftest import FIXTURES, make_device, post

SHANGHAI = ZoneInfo("Asia/Shanghai")


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def usb_people(org):
    for number in ("1", "2", "15", "108"):  # 2001 is org.stranger
        factories.EmployeeFactory(
            user=factories.UserFactory(username=f"usb{number}"),
            employee_no=number,
            attendance_group=org.group,
        )


class TestUsbAttlog:
    path = str(FIXTURES / "1_attlog.dat")

    def test_dry_run_counts_and_writes_nothing(self, org, usb_people, approved):
        audit_before = AuditEvent.objects.count()
        out = run("import-attlog", self.path, "--device", approved.serial, "--dry-run")

        assert "30 rows: new 30, duplicate 0, held 0, refused 0 (dry run" in out
        assert Punch.objects.count() == 0
        assert AuditEvent.objects.count() == audit_before

    def test_import_then_again_is_idempotent(self, org, usb_people, approved):
        assert "new 30" in run("import-attlog", self.path, "--device", approved.serial)
        out = run("import-attlog", self.path, "--device", approved.serial)
        assert "new 0, duplicate 30" in out
        assert Punch.objects.count() == 30
        punch = Punch.objects.get(pin="1", at=datetime(2026, 11, 23, 9, 9, 25, tzinfo=SHANGHAI))
        assert (punch.source, punch.device_sn, punch.verify_mode) == ("device", approved.serial, 1)

    def test_a_large_file_has_its_days_recomputed_before_the_command_ends(
        self, org, usb_people, approved, settings
    ):
        from ztk.attendance.models import AttendanceDay, PendingRecompute

        settings.RECOMPUTE_DEFER_ABOVE = 10  # 30 punches: queued for the worker
        out = run("import-attlog", self.path, "--device", approved.serial)
        assert "new 30" in out and "recomputed" in out
        assert not PendingRecompute.objects.exists()
        people = Punch.objects.values_list("employee_id", flat=True).distinct()
        assert AttendanceDay.objects.filter(employee_id__in=people).exists()

    def test_punches_already_pushed_add_nothing(self, client, org, usb_people, approved):
        pushed = "1\t2026-11-23 09:09:25\t0\t1\t0\t0\t0\n2\t2026-11-23 08:05:35\t0\t1\t0\t0\t0\n"
        assert post(client, "ATTLOG", pushed).content == b"OK: 2"

        out = run("import-attlog", self.path, "--device", approved.serial)

        assert "new 28, duplicate 2" in out
        assert Punch.objects.count() == 30

    def test_unknown_pins_are_held_and_bad_lines_listed(self, org, approved, tmp_path):
        data = (FIXTURES / "1_attlog.dat").read_bytes() + (
            b"      108\t2026-11-31 08:00:00\t1\t0\t1\t0\r\n"
            b"        7\t2026-11-25 08:00:00\t1\t0\t1\r\n"
        )
        path = tmp_path / "1_attlog.dat"
        path.write_bytes(data)

        out = run("import-attlog", str(path), "--device", approved.serial)

        assert "32 rows: new 6, duplicate 0, held 24, refused 2" in out
        assert "line 31: refused: impossible_timestamp" in out
        assert "line 32: refused: too_few_fields" in out
        assert HeldPunch.objects.filter(channel="usb").count() == 24

    def test_pending_terminal_holds_and_unknown_terminal_is_an_error(self, org, usb_people):
        pending = make_device("USB00001", status=DeviceStatus.PENDING, group=org.group)
        assert "held 30" in run("import-attlog", self.path, "--device", pending.serial)
        with pytest.raises(CommandError, match="device_not_found"):
            run("import-attlog", self.path, "--device", "NOPE")
        with pytest.raises(CommandError, match="cannot read"):
            run("import-attlog", "/nonexistent/file.dat", "--device", pending.serial)


CSV = (
    "employee_no,time,device_sn,verify_mode,punch_state,remark\n"
    "1002,2026-11-26 08:57:03,,1,0,\n"
    "1003,2026-11-26 09:01,CGX01,,,补录\n"
    "9999,2026-11-26 09:02:00,,,,\n"
    "1002,2026-11-26 25:00:00,,,,\n"
    "1002,2026-11-26 18:00:00,,x,,\n"
    ",,,,,\n"
    "1001,2026-11-26T09:00:00+00:00,,,,\n"
)


class TestSpreadsheet:
    def test_csv_dry_run_then_real_then_again(self, org, tmp_path):
        path = tmp_path / "punches.csv"
        path.write_text(CSV, encoding="utf-8")

        out = run("import-punches", str(path), "--dry-run")
        assert "6 rows: new 3, duplicate 0, held 0, refused 3 (dry run" in out
        assert "row 4: refused: unknown_employee" in out
        assert "row 5: refused: impossible_timestamp" in out
        assert "row 6: refused: bad_number" in out
        assert Punch.objects.count() == 0

        assert "new 3" in run("import-punches", str(path))
        assert "new 0, duplicate 3" in run("import-punches", str(path))
        punch = Punch.objects.get(employee=org.colleague)
        assert (punch.source, punch.device_sn, punch.remark) == ("import", "CGX01", "补录")
        assert punch.at == datetime(2026, 11, 26, 1, 1, tzinfo=UTC)
        explicit = Punch.objects.get(employee=org.supervisor)
        assert explicit.at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def test_a_cell_with_a_forbidden_character_refuses_its_row_alone(self, org, tmp_path):
        # PostgreSQL cannot store NUL: such a row used to abort the whole import.
        path = tmp_path / "punches.csv"
        path.write_text(
            "employee_no,time,device_sn,remark,note\n"
            "1002,2026-11-26 08:59:00,,ok,\n"
            "10\x0003,2026-11-26 09:00:00,,,\n"
            "1003,2026-11-26 09:01:00,,fine\u202etxt,\n"
            "1003,2026-11-26 09:02:00,CGX\x1b01,,\n"
            '1001,2026-11-26 09:03:00,,"two\nlines",\x00\n',
            encoding="utf-8",
        )

        out = run("import-punches", str(path))

        assert "5 rows: new 2, duplicate 0, held 0, refused 3" in out
        for row in (3, 4, 5):
            assert f"row {row}: refused: invalid_text" in out
        # A remark may span lines; a column we do not read is kept escaped in the raw row.
        assert Punch.objects.get(employee=org.supervisor).raw.endswith(",\\x00")

    def test_tz_option_and_gb18030_with_chinese_headers(self, org, tmp_path):
        path = tmp_path / "考勤.csv"
        path.write_bytes("工号,打卡时间,备注\n1002,2026-11-26 09:00:00,手工\n".encode("gb18030"))

        out = run("import-punches", str(path), "--tz", "Asia/Tokyo")

        assert "new 1" in out
        assert Punch.objects.get().at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)

    def test_xlsx_with_date_cells(self, org, tmp_path):
        book = Workbook()
        sheet = book.active
        sheet.append(["Employee_No", "Time", "Verify_Mode", "Remark"])
        sheet.append([1002, datetime(2026, 11, 26, 8, 57, 3), 15, "from the old system"])
        sheet.append(["1003", "2026-11-26 09:05:00", None, None])
        sheet.append(["4001", "not a time", None, None])
        buffer = BytesIO()
        book.save(buffer)
        path = tmp_path / "punches.xlsx"
        path.write_bytes(buffer.getvalue())

        dry = run("import-punches", str(path), "--dry-run")
        assert "3 rows: new 2, duplicate 0, held 0, refused 1" in dry
        assert "row 4: refused: bad_timestamp" in dry
        assert Punch.objects.count() == 0
        run("import-punches", str(path))
        punch = Punch.objects.get(employee=org.employee)
        assert punch.verify_mode == 15
        assert punch.at == datetime(2026, 11, 26, 8, 57, 3, tzinfo=SHANGHAI)
        assert AuditEvent.objects.filter(action="devices.import.punches").exists()

    def test_file_level_errors(self, org, tmp_path):
        bad_header = tmp_path / "a.csv"
        bad_header.write_text("name,when\nx,y\n")
        with pytest.raises(CommandError, match="missing_columns"):
            run("import-punches", str(bad_header))
        other = tmp_path / "a.txt"  # the content decides: a picture is no spreadsheet
        other.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        with pytest.raises(CommandError, match="unsupported_file"):
            run("import-punches", str(other))
        broken = tmp_path / "b.xlsx"
        broken.write_bytes(b"not a zip")
        with pytest.raises(CommandError, match="bad_file"):
            run("import-punches", str(broken))
        header_only = tmp_path / "c.csv"
        header_only.write_text("employee_no,time\n")
        assert "0 rows" in run("import-punches", str(header_only))
        with pytest.raises(CommandError, match="bad_time_zone"):
            run("import-punches", str(header_only), "--tz", "Nowhere/City")
