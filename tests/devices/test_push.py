"""The push server's edge cases, through Django's test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ztk.attendance.models import AttendanceDay
from ztk.audit.models import AuditEvent
from ztk.devices.ingest import REFUSAL_LOG_INTERVAL_SECONDS
from ztk.devices.models import (
    Device,
    DeviceLog,
    DevicePhoto,
    DeviceStatus,
    HeldPunch,
    LogKind,
)
from ztk.punches.models import Punch

from .conftest import SERIAL, fixture_bytes, image_bytes, make_device, photo_body, post

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(dt: datetime, zone=SHANGHAI) -> str:
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


class TestTimes:
    def test_more_than_five_minutes_ahead_is_refused_with_the_reason(self, client, approved):
        now = datetime.now(UTC)
        body = (
            f"1002\t{local(now + timedelta(minutes=2))}\t0\t1\n"
            f"1003\t{local(now + timedelta(minutes=30))}\t0\t1\n"
        )
        response = post(client, "ATTLOG", body)

        assert response.content == b"OK: 1"
        assert list(Punch.objects.values_list("pin", flat=True)) == ["1002"]
        entry = DeviceLog.objects.get(kind=LogKind.REJECTED_LINE)
        assert (entry.line_no, entry.code) == (2, "future_time")
        assert "5" in entry.message  # stored in the site language (zh-hans here)

    def test_impossible_dates_are_refused(self, client, approved):
        body = "1002\t2026-02-30 09:00:00\t0\t1\n1002\t1999-12-31 09:00:00\t0\t1\n1002\tsoon\n"
        response = post(client, "ATTLOG", body)

        assert response.content == b"OK: 0"
        codes = list(DeviceLog.objects.order_by("line_no").values_list("line_no", "code"))
        assert codes == [
            (1, "impossible_timestamp"),
            (2, "impossible_timestamp"),
            (3, "bad_timestamp"),
        ]
        assert AuditEvent.objects.filter(action="devices.push.unreadable").exists()

    def test_terminal_local_time_is_read_in_the_device_time_zone(self, client, org):
        make_device(group=org.group, time_zone="Asia/Tokyo")
        post(client, "ATTLOG", "1002\t2026-11-26 09:00:00\t0\t1\n")

        assert Punch.objects.get().at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
        handshake = client.get(f"/iclock/cdata?SN={SERIAL}&options=all&pushver=2.4.1")
        assert "TimeZone=9" in handshake.content.decode().splitlines()

    def test_group_zone_applies_without_an_override(self, client, org):
        org.group.time_zone = "Asia/Kolkata"
        org.group.save()
        make_device(group=org.group)
        handshake = client.get(f"/iclock/cdata?SN={SERIAL}&options=all&pushver=2.4.1")

        assert "TimeZone=5.5" in handshake.content.decode().splitlines()


class TestBodies:
    def test_crlf_utf8_bom_and_nul_padding(self, client, approved):
        body = b"\xef\xbb\xbf1002\t2026-11-26 08:57:03\t0\t1\r\n"
        body += b"1003\t2026-11-26 08:58:00\r\n\x00\x00"
        assert post(client, "ATTLOG", body).content == b"OK: 2"

    def test_codes_too_large_to_store_keep_the_punch(self, client, approved):
        post(client, "ATTLOG", "1002\t2026-11-26 08:57:03\t99999\t7\n")
        punch = Punch.objects.get()
        assert (punch.punch_state, punch.verify_mode) == (None, 7)
        assert "99999" in punch.raw

    def test_empty_body(self, client, approved):
        assert post(client, "ATTLOG", b"").content == b"OK: 0"

    def test_unknown_tables_are_accepted_without_error(self, client, approved):
        response = post(client, "rtstate", "state=1\n")
        assert (response.status_code, response.content) == (200, b"OK")
        assert not DeviceLog.objects.filter(kind=LogKind.ERROR).exists()

    def test_options_update_what_we_know_of_the_terminal(self, client, approved):
        body = "~DeviceName=iClock680,MAC=00:17:61:11:22:33,FWVersion=Ver 6.60,UserCount=12"
        assert post(client, "options", body).content == b"OK"
        approved.refresh_from_db()
        assert approved.options["DeviceName"] == "iClock680"
        assert approved.firmware == "Ver 6.60"
        assert approved.user_count == 12

    def test_rtlog_of_protocol_3(self, client, approved):
        body = (
            "time=2026-11-26 08:57:03\tpin=1002\tcardno=0\teventaddr=1\tevent=0\t"
            "inoutstatus=0\tverifytype=15\n"
            "time=2026-11-26 08:58:00\tpin=0\tcardno=0\teventaddr=1\tevent=8\t"
            "inoutstatus=0\tverifytype=200\n"
        )
        response = post(client, "rtlog", body)

        assert response.content == b"OK: 1"
        assert Punch.objects.get().verify_mode == 15
        assert DeviceLog.objects.get().code == "no_user"


class TestTerminals:
    def test_missing_or_hostile_serial_is_a_400(self, client, db):
        assert client.get("/iclock/cdata?options=all").status_code == 400
        assert client.get("/iclock/getrequest?SN=A%0ABC").status_code == 400
        assert not Device.objects.exists()

    def test_first_contact_is_audited(self, client, db):
        client.get("/iclock/getrequest?SN=FIRST01")
        event = AuditEvent.objects.get(action="devices.device.first_contact")
        assert event.changes["after"]["serial"] == "FIRST01"

    def test_auto_approve_setting(self, client, org, settings):
        settings.DEVICE_AUTO_APPROVE = True
        post(client, "ATTLOG", "1002\t2026-11-26 08:57:03\n", serial="AUTO0001")

        assert Device.objects.get(serial="AUTO0001").status == DeviceStatus.APPROVED
        assert Punch.objects.filter(device_sn="AUTO0001").count() == 1

    def test_auto_approve_from_the_environment(self, client, org, settings, monkeypatch):
        del settings.DEVICE_AUTO_APPROVE
        monkeypatch.setenv("ZTK_DEVICE_AUTO_APPROVE", "1")
        client.get("/iclock/cdata?SN=AUTO0002&options=all")
        assert Device.objects.get(serial="AUTO0002").status == DeviceStatus.APPROVED

    def test_a_disabled_terminal_is_refused_and_logged_once(self, client, org):
        make_device(group=org.group, status=DeviceStatus.DISABLED)
        first = post(client, "ATTLOG", "1002\t2026-11-26 08:57:03\n")
        second = post(client, "ATTLOG", "1002\t2026-11-26 08:57:03\n")

        assert first.status_code == second.status_code == 403
        assert Punch.objects.count() == 0
        assert HeldPunch.objects.count() == 0
        refused = DeviceLog.objects.filter(kind=LogKind.REFUSED)
        assert refused.count() == 1  # not once per retry
        assert refused.get().code == "device_disabled"
        assert REFUSAL_LOG_INTERVAL_SECONDS >= 60
        # It still gets no commands, but polling is answered.
        assert client.get(f"/iclock/getrequest?SN={SERIAL}").content == b"OK"

    def test_aspx_paths_of_some_firmware(self, client, approved):
        assert client.get(f"/iclock/getrequest.aspx?SN={SERIAL}").content == b"OK"
        response = client.post(
            f"/iclock/cdata.aspx?SN={SERIAL}&table=ATTLOG",
            data=b"1002\t2026-11-26 08:57:03\n",
            content_type="text/plain",
        )
        assert response.content == b"OK: 1"

    def test_result_for_a_command_never_queued_is_logged(self, client, approved):
        response = client.post(
            f"/iclock/devicecmd?SN={SERIAL}",
            data=b"ID=999&Return=0&CMD=INFO\n",
            content_type="text/plain",
        )
        assert response.content == b"OK"
        assert DeviceLog.objects.get().code == "unknown_command"

    def test_a_bad_stamp_is_not_stored(self, client, approved):
        post(client, "ATTLOG", "1002\t2026-11-26 08:57:03\n", Stamp="12/34")
        approved.refresh_from_db()
        assert approved.attlog_stamp == ""
        assert DeviceLog.objects.get().code == "bad_stamp"

    def test_a_stamp_with_a_line_break_is_refused_as_text(self, client, approved):
        post(client, "ATTLOG", "1002\t2026-11-26 08:57:03\n", Stamp="12%0A34")
        approved.refresh_from_db()
        assert approved.attlog_stamp == ""
        entry = DeviceLog.objects.get()
        assert (entry.code, entry.table, entry.raw) == ("invalid_text", "query", "12\n34")


class TestPhotos:
    def test_attphoto_is_stored_under_a_random_name_outside_media(
        self, client, approved, photo_dir, settings
    ):
        image = image_bytes()
        response = post(client, "ATTPHOTO", photo_body(image), Stamp="55")

        assert response.content == b"OK"
        photo = DevicePhoto.objects.get()
        assert (photo.pin, photo.local_time, photo.content_type) == (
            "1002",
            "2026-11-26 08:57:03",
            "image/jpeg",
        )
        assert "1002" not in photo.file and photo.file.endswith(".jpg")
        assert (photo_dir / photo.file).read_bytes() == image
        assert not (settings.MEDIA_ROOT / "device-photos").exists()
        approved.refresh_from_db()
        assert approved.attphoto_stamp == "55"

    def test_fdata_too(self, client, approved, photo_dir):
        body = b"PIN=x.jpg\nCMD=uploadphoto\n" + image_bytes()
        response = client.post(f"/iclock/fdata?SN={SERIAL}", data=body, content_type="text/plain")
        assert response.content == b"OK"
        assert DevicePhoto.objects.count() == 1

    def test_a_photo_without_image_is_logged(self, client, approved, photo_dir):
        assert post(client, "ATTPHOTO", b"PIN=x.jpg\nCMD=uploadphoto\n").content == b"OK"
        assert DeviceLog.objects.get().code == "no_image"
        assert not DevicePhoto.objects.exists()


class TestPendingTerminal:
    def test_punches_are_held_not_counted(self, client, pending):
        body = fixture_bytes("attlog_push_body.txt")
        response = post(client, "ATTLOG", body, serial=pending.serial)

        assert response.content == b"OK: 5"
        assert Punch.objects.count() == 0
        assert HeldPunch.objects.filter(device=pending).count() == 5
        assert AuditEvent.objects.filter(action="devices.push.held").exists()

    def test_future_punches_are_refused_even_while_pending(self, client, pending):
        future = local(datetime.now(UTC) + timedelta(hours=2))
        response = post(client, "ATTLOG", f"1002\t{future}\n", serial=pending.serial)
        assert response.content == b"OK: 0"
        assert DeviceLog.objects.get().code == "future_time"


def test_upload_query_count_does_not_grow_with_the_batch(
    client, approved, django_assert_max_num_queries
):
    def body(n: int, minute: int) -> str:
        numbers = ["1000", "1001", "1002", "1003", "2001", "4001", "4002"]
        return "".join(
            f"{numbers[i % 7]}\t2026-11-2{1 + i // 7 % 5} 08:{minute:02d}:{i % 60:02d}\n"
            for i in range(n)
        )

    with django_assert_max_num_queries(60) as small:
        post(client, "ATTLOG", body(7, 10))
    with django_assert_max_num_queries(60) as large:
        post(client, "ATTLOG", body(140, 20))
    assert Punch.objects.count() == 147
    # Recompute reads per day range, not per punch.
    assert len(large.captured_queries) <= len(small.captured_queries) + 10


def test_a_pushed_punch_is_recomputed_into_the_attendance_day(client, org, approved):
    post(client, "ATTLOG", "1002\t2026-11-26 08:57:03\t0\t1\n")
    assert AttendanceDay.objects.filter(employee=org.employee, day="2026-11-26").exists()


def test_a_flood_of_unknown_terminals_is_capped(client, db, settings):
    settings.DEVICE_MAX_PENDING = 2
    for serial in ("FLOOD1", "FLOOD2"):
        assert client.get(f"/iclock/cdata?SN={serial}&options=all").status_code == 200
    response = post(client, "ATTLOG", "1\t2026-11-26 08:00:00\n", serial="FLOOD3")
    assert response.status_code == 503
    assert not Device.objects.filter(serial="FLOOD3").exists()
    assert client.get("/iclock/getrequest?SN=FLOOD1").status_code == 200  # known ones go on


def test_date_header_is_ours_unless_the_server_writes_one(client, approved):
    assert "Date" in client.get(f"/iclock/getrequest?SN={SERIAL}").headers
    under_gunicorn = client.get(
        f"/iclock/getrequest?SN={SERIAL}", SERVER_SOFTWARE="gunicorn/23.0.0"
    )
    assert "Date" not in under_gunicorn.headers  # gunicorn adds its own correct one
