"""The iclock push server over real HTTP, the way a terminal talks to it.

A live server and `http.client`: real request lines, real `Content-Type: text/plain`
bodies from the sample captures, and the answers a terminal would read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest

from tests import factories
from ztk.devices.models import (
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceLog,
    DeviceStatus,
    HeldPunch,
    HoldReason,
    LogKind,
)
from ztk.devices.services import device_approve, held_punch_assign
from ztk.punches.models import Punch

from .conftest import SERIAL, fixture_bytes, make_device
from .terminal import Terminal

pytestmark = pytest.mark.django_db(transaction=True)


def people(org, *numbers: str):
    """Employees whose numbers are the PINs used in the sample captures."""
    for number in numbers:
        factories.EmployeeFactory(
            user=factories.UserFactory(username=f"pin{number}"),
            employee_no=number,
            attendance_group=org.group,
        )


ATTLOG = fixture_bytes("attlog_push_body.txt")  # PINs 1, 2, 15, 108, 2001 on 2026-11-26


def test_first_handshake_creates_a_pending_terminal_and_queues_info_and_check(live_server, org):
    terminal = Terminal(live_server.url)
    response, body = terminal.handshake()

    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/plain")
    date = parsedate_to_datetime(response.getheader("Date"))
    assert abs((date - datetime.now(UTC)).total_seconds()) < 10
    lines = body.splitlines()
    assert lines[0] == f"GET OPTION FROM: {SERIAL}"
    assert "ATTLOGStamp=0" in lines
    assert "OPERLOGStamp=0" in lines
    assert "TimeZone=8" in lines  # the server default zone, Asia/Shanghai
    device = Device.objects.get(serial=SERIAL)
    assert device.status == DeviceStatus.PENDING
    assert device.push_version == "2.4.1"
    assert list(device.commands.values_list("command", flat=True)) == ["INFO", "CHECK"]


def test_stamps_are_stored_and_handed_back_opaque(live_server, org):
    people(org, "1", "2")
    make_device(group=org.group)
    terminal = Terminal(live_server.url)

    response, body = terminal.upload("ATTLOG", ATTLOG, Stamp="9999123")
    assert (response.status, body) == (200, "OK: 5")
    terminal.upload("OPERLOG", fixture_bytes("operlog_gb18030_body.bin"), OpStamp="777")

    _response, body = terminal.handshake()
    assert "ATTLOGStamp=9999123" in body.splitlines()
    assert "OPERLOGStamp=777" in body.splitlines()
    # Firmware that sends no pushver gets the old names.
    _response, body = terminal.handshake(pushver=None)
    assert "Stamp=9999123" in body.splitlines()
    assert "OpStamp=777" in body.splitlines()


def test_upload_counts_and_the_same_batch_again_adds_nothing(live_server, org):
    people(org, "1", "2", "15", "108")  # 2001 is org.stranger already
    make_device(group=org.group)
    terminal = Terminal(live_server.url)

    response, body = terminal.upload("ATTLOG", ATTLOG, Stamp="1")
    assert (response.status, body) == (200, "OK: 5")
    assert Punch.objects.count() == 5
    punch = Punch.objects.get(pin="108")
    assert punch.source == "device"
    assert punch.device_sn == SERIAL
    assert punch.verify_mode == 25  # palm
    # 08:59:59 terminal local time in Asia/Shanghai
    assert punch.at == datetime(2026, 11, 26, 0, 59, 59, tzinfo=UTC)
    assert Punch.objects.get(pin="15").punch_state == 255

    response, body = terminal.upload("ATTLOG", ATTLOG, Stamp="2")
    assert (response.status, body) == (200, "OK: 5")  # accepted again: already stored
    assert Punch.objects.count() == 5


def test_a_malformed_line_is_refused_alone_with_its_reason(live_server, org):
    make_device(group=org.group)
    body = (
        b"1002\t2026-11-26 08:57:03\t0\t1\t0\t0\t0\n"
        b"1003\t2026-11-26 25:61:00\t0\t1\t0\t0\t0\n"
        b"1003\t2026-11-26 09:01:00\t0\t1\t0\t0\t0\n"
    )
    response, answer = Terminal(live_server.url).upload("ATTLOG", body, Stamp="5")

    assert (response.status, answer) == (200, "OK: 2")
    assert set(Punch.objects.values_list("pin", flat=True)) == {"1002", "1003"}
    entry = DeviceLog.objects.get(kind=LogKind.REJECTED_LINE)
    assert (entry.line_no, entry.code, entry.table) == (2, "impossible_timestamp", "ATTLOG")
    assert "25:61:00" in entry.raw


def test_an_unknown_terminal_is_held_then_counts_once_approved(live_server, org):
    people(org, "1", "2", "15")
    terminal = Terminal(live_server.url, serial="NEW0000001")

    response, body = terminal.upload("ATTLOG", ATTLOG, Stamp="3")

    assert (response.status, body) == (200, "OK: 5")
    assert Punch.objects.count() == 0
    assert HeldPunch.objects.filter(reason=HoldReason.PENDING_DEVICE).count() == 5
    # The terminal re-sends the batch while waiting: nothing is held twice.
    terminal.upload("ATTLOG", ATTLOG, Stamp="3")
    assert HeldPunch.objects.count() == 5

    result = device_approve(actor=org.hr.user, serial="NEW0000001", attendance_group="STD")

    assert result.released.recorded == 4  # PINs 1, 2, 15 and 2001 (org.stranger)
    assert result.released.still_held == 1  # PIN 108 matches no employee
    assert Punch.objects.filter(device_sn="NEW0000001").count() == 4
    assert HeldPunch.objects.get(resolved_at__isnull=True).reason == HoldReason.UNKNOWN_PIN
    # From now on the terminal's punches count straight away, without duplicates.
    response, body = terminal.upload("ATTLOG", ATTLOG, Stamp="4")
    assert body == "OK: 5"
    assert Punch.objects.filter(device_sn="NEW0000001").count() == 4


def test_an_unknown_pin_is_held_then_assigned_to_an_employee(live_server, org):
    make_device(group=org.group)
    terminal = Terminal(live_server.url)
    body = b"77\t2026-11-26 08:50:00\t0\t1\t0\t0\t0\n77\t2026-11-26 18:05:00\t1\t1\t0\t0\t0\n"

    response, answer = terminal.upload("ATTLOG", body, Stamp="8")

    assert answer == "OK: 2"
    assert Punch.objects.count() == 0
    assert HeldPunch.objects.filter(pin="77", reason=HoldReason.UNKNOWN_PIN).count() == 2

    result = held_punch_assign(actor=org.hr.user, employee=org.employee, pin="77")

    assert result.released.recorded == 2
    punches = Punch.objects.filter(employee=org.employee).order_by("at")
    assert [p.pin for p in punches] == ["77", "77"]
    assert not HeldPunch.objects.filter(resolved_at__isnull=True).exists()
    held = HeldPunch.objects.order_by("local_time").first()
    assert held.punch == punches[0]
    assert held.employee == org.employee
    # The terminal re-sends: the held rows exist, the punches exist, nothing doubles.
    terminal.upload("ATTLOG", body, Stamp="9")
    assert Punch.objects.count() == 2


def test_operlog_from_older_firmware_in_gb18030(live_server, org):
    make_device(group=org.group)
    response, body = Terminal(live_server.url).upload(
        "OPERLOG", fixture_bytes("operlog_gb18030_body.bin"), OpStamp="12"
    )

    assert (response.status, body) == (200, "OK: 2")
    user = DeviceLog.objects.get(kind=LogKind.USER)
    assert user.message == "PIN=108 Name=张伟"
    assert DeviceLog.objects.filter(kind=LogKind.OPERLOG).count() == 1
    assert Punch.objects.count() == 0  # nothing in org changes either


def test_operlog_from_newer_firmware_in_utf8(live_server, org):
    make_device(group=org.group)
    body = "USER PIN=109\tName=李小龙\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0\n".encode()
    response, answer = Terminal(live_server.url).upload("OPERLOG", body, Stamp="13")

    assert answer == "OK: 1"
    assert DeviceLog.objects.get(kind=LogKind.USER).message == "PIN=109 Name=李小龙"


def test_getrequest_hands_out_commands_once_and_devicecmd_records_results(live_server, org):
    device = make_device(group=org.group)
    first = DeviceCommand.objects.create(device=device, command="INFO")
    second = DeviceCommand.objects.create(device=device, command="DATA QUERY USERINFO")
    terminal = Terminal(live_server.url)

    response, body = terminal.poll(info="Ver 8.0.4.2-20201216,5,3,150,192.168.1.201,10,7,15,0,111")

    assert response.status == 200
    assert body == f"C:{first.pk}:INFO\nC:{second.pk}:DATA QUERY USERINFO\n"
    assert set(device.commands.values_list("status", flat=True)) == {CommandStatus.SENT}
    device.refresh_from_db()
    assert (device.firmware, device.user_count, device.fp_count, device.log_count) == (
        "Ver 8.0.4.2-20201216",
        5,
        3,
        150,
    )
    _response, body = terminal.poll()
    assert body == "OK"

    results = (
        f"ID={first.pk}&Return=0&CMD=INFO\n~DeviceName=iFace702\nUserCount=6\n"
        f"ID={second.pk}&Return=-1004&CMD=DATA\n"
    ).encode()
    response, body = terminal.command_results(results)

    assert (response.status, body) == (200, "OK")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.return_code) == (CommandStatus.DONE, 0)
    assert (second.status, second.return_code) == (CommandStatus.FAILED, -1004)
    device.refresh_from_db()
    assert device.options["DeviceName"] == "iFace702"
    assert device.user_count == 6


def test_ping_answers_ok(live_server, org):
    response, body = Terminal(live_server.url).request("GET", f"/iclock/ping?SN={SERIAL}")
    assert (response.status, body) == (200, "OK")
