"""HR's punch-file import page at /hr/devices/import/: upload, dry run, commit, result.

The page runs `ztk.devices.imports.file_import` as a background job (immediate in tests),
the same service as `ztk import-attlog` / `ztk import-punches`."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from ztk.attendance.models import AttendanceDay
from ztk.audit.models import AuditEvent
from ztk.core.models import Job
from ztk.devices import imports
from ztk.devices.models import DeviceStatus, HeldPunch
from ztk.punches.models import Punch

from .conftest import make_device

USB = (
    b" 1002\t2026-11-23 08:57:03\t1\t0\t1\t0\r\n"
    b" 1002\t2026-11-23 18:03:10\t1\t1\t1\t0\r\n"
    b"\x00\x00garbage\x00line\r\n"
    b" 9999\t2026-11-23 09:00:00\t1\t0\t1\t0\r\n"
    b" 1002\t2026-13-40 09:00:00\t1\t0\t1\t0\r\n"
)
CSV = "employee_no,time,device_sn\r\n1002,2026-11-24 08:55,GATE9\r\n8888,2026-11-24 09:00,\r\n"


@pytest.fixture
def hr_client(client, org):
    client.force_login(org.hr.user)
    return client


def upload(client, data: bytes, name: str = "1_attlog.dat", serial: str = ""):
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(reverse("devices:import_check"), {"file": file, "serial": serial})


def last_job() -> Job:
    return Job.objects.filter(kind__in=imports.JOB_KINDS).latest("created_at")


def commit(client, job: Job):
    return client.post(
        reverse("devices:import_commit"),
        {
            "sha256": job.params["sha256"],
            "filename": job.params["filename"],
            "serial": job.params["serial"],
        },
    )


def test_the_devices_page_links_the_import(hr_client, org):
    html = hr_client.get(reverse("devices:index")).content.decode()
    assert reverse("devices:import") in html


def test_usb_dry_run_shows_each_line_and_stores_nothing(hr_client, org):
    device = make_device()
    audits = AuditEvent.objects.count()

    response = upload(hr_client, USB, serial=device.serial)

    job = last_job()
    assert response.status_code == 302 and response.url == reverse(
        "devices:import_job", args=[job.pk]
    )
    assert Punch.objects.count() == 0 and HeldPunch.objects.count() == 0
    assert AuditEvent.objects.count() == audits
    result = job.result
    assert result["kind"] == "attlog" and result["serial"] == device.serial
    assert result["counts"] == {
        "rows": 5, "new": 2, "duplicate": 0, "unknown": 1, "held": 0, "refused": 2,
    }  # fmt: skip
    by_line = {line["line"]: line for line in result["lines"]}
    assert by_line[1]["status"] == "new" and by_line[1]["name"] == org.employee.name
    assert by_line[1]["serial"] == device.serial
    assert by_line[3]["status"] == "refused"  # the NUL line, refused alone
    assert (by_line[4]["status"], by_line[4]["code"]) == ("held", "unknown_pin")
    assert by_line[5]["status"] == "refused"

    page = hr_client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert device.serial in html and reverse("devices:import_commit") in html
    assert "\x00" not in html


def test_commit_stores_recomputes_and_a_second_import_adds_nothing(hr_client, org):
    device = make_device()
    upload(hr_client, USB, serial=device.serial)

    response = commit(hr_client, last_job())

    job = last_job()
    assert job.kind == imports.JOB_COMMIT and response.url.endswith(f"{job.pk}/")
    assert job.result["counts"]["new"] == 2
    assert Punch.objects.filter(employee=org.employee, device_sn=device.serial).count() == 2
    assert HeldPunch.objects.filter(pin="9999", resolved_at__isnull=True).count() == 1
    assert AttendanceDay.objects.filter(employee=org.employee, day=date(2026, 11, 23)).exists()
    assert AuditEvent.objects.filter(action="devices.usb.punches").exists()
    assert "2" in hr_client.get(response.url).content.decode()

    upload(hr_client, USB, serial=device.serial)
    commit(hr_client, last_job())

    counts = last_job().result["counts"]
    assert (counts["new"], counts["duplicate"]) == (0, 2)
    assert Punch.objects.count() == 2
    assert HeldPunch.objects.filter(pin="9999").count() == 1


def test_a_usb_file_needs_its_terminal_and_the_form_says_so(hr_client, org):
    make_device()
    response = upload(hr_client, USB, serial="")
    assert response.status_code == 422
    with translation.override("zh-hans"):
        message = str(imports.FORMAT_MESSAGES["device_required"])
    assert message in response.content.decode()
    assert not Job.objects.filter(kind__in=imports.JOB_KINDS).exists()


def test_a_spreadsheet_is_imported_with_unknown_numbers_refused(hr_client, org):
    upload(hr_client, CSV.encode(), name="punches.csv")
    result = last_job().result
    assert result["kind"] == "table"
    assert (result["counts"]["new"], result["counts"]["unknown"]) == (1, 1)
    assert result["lines"][0]["serial"] == "GATE9"

    commit(hr_client, last_job())
    assert Punch.objects.filter(employee=org.employee, source="import").count() == 1


def test_a_pending_terminal_holds_its_lines(hr_client, org):
    device = make_device("PEND0001", status=DeviceStatus.PENDING)
    upload(hr_client, USB, serial=device.serial)
    counts = last_job().result["counts"]
    assert counts["held"] == 3 and counts["new"] == 0


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 10, b"PK\x03\x04broken zip", "工号\n\x00".encode(), b"\xff\xfe\x00garbage"],
)
def test_hostile_files_are_refused_without_a_500(hr_client, org, data):
    device = make_device()
    response = upload(hr_client, data, serial=device.serial)
    if response.status_code == 302:
        page = hr_client.get(response.url)
        assert page.status_code == 200
    else:
        assert response.status_code == 422
    assert Punch.objects.count() == 0


def test_non_hr_users_get_403(client, org):
    client.force_login(org.employee.user)
    assert client.get(reverse("devices:import")).status_code == 403
    file = SimpleUploadedFile("a.dat", USB)
    assert client.post(reverse("devices:import_check"), {"file": file}).status_code == 403
    assert Punch.objects.count() == 0


def test_another_users_job_is_not_found(client, hr_client, org):
    device = make_device()
    upload(hr_client, USB, serial=device.serial)
    client.force_login(org.sysadmin)
    assert client.get(reverse("devices:import_job", args=[last_job().pk])).status_code == 404
