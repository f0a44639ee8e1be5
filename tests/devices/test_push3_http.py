"""Push protocol 3.x over real HTTP: a terminal that registers, downloads the configuration,
uploads punches, users, templates and stored transactions, and runs commands — from the
recorded sample bodies (tests/devices/samples/3x) and the 3.x simulator.

Runs on the default SQLite test database and, with DATABASE_URL=postgres://…, on PostgreSQL.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from ztk.audit.models import AuditEvent
from ztk.devices import protocol3
from ztk.devices.models import (
    BiometricTemplate,
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceLog,
    DeviceStatus,
    HeldPunch,
    HoldReason,
    LogKind,
    PushProtocol,
)
from ztk.devices.services import device_approve
from ztk.devices.simulator import PROTOCOLS
from ztk.devices.simulator3 import Punch3, Push3Terminal
from ztk.punches.models import Punch

from .conftest import make_device
from .test_protocol3 import sample

# With the people sync on (a new terminal of a group gets its people): 3.x terminals get them too.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.terminal_sync]

SERIAL = "CGXH3X0000001"


def body(name: str) -> bytes:
    return sample(name).encode()


def drain(terminal: Push3Terminal) -> list[str]:
    """Run what is queued already — the group's people, sent to a new terminal (USERINFO
    sync) — and return those commands as handed out."""
    handed = []
    while commands := terminal.run_commands():
        handed += [command for _id, command in commands]
    return handed


def test_a_3x_exchange_from_registry_to_uploaded_punches(live_server, org):
    device = make_device(SERIAL, group=org.group)  # approved, in Asia/Shanghai
    terminal = Push3Terminal(live_server.url, SERIAL)

    # 1. Start-up: not registered yet, so `OK`; the terminal is now served in 3.x.
    reply = terminal.init()
    assert (reply.status, reply.body) == (200, "OK")
    assert reply.headers["content-type"].startswith("text/plain")
    device.refresh_from_db()
    assert device.protocol == PushProtocol.V3
    assert device.push_version == "3.1.2"

    # 2. Registry: the capabilities in, the code out (and the session as a cookie).
    reply = terminal.request("POST", f"/iclock/registry?SN={SERIAL}", body("registry_body.txt"))
    assert reply.status == 200
    device.refresh_from_db()
    assert reply.body == f"RegistryCode={device.registry_code}\n"
    assert len(device.registry_code) == 32
    assert f"JSESSIONID={device.session_id}" in reply.headers["set-cookie"]
    assert device.options["registry"]["DeviceType"] == "att"
    assert device.firmware == "ZAM180-NF-Ver1.1.17"
    assert AuditEvent.objects.filter(action="devices.device.registry").count() == 1
    terminal.registry_code = device.registry_code
    terminal.session_id = device.session_id

    # 3. Configuration, with the same session id; from now on requests carry the token.
    reply = terminal.download_config()
    assert reply.status == 200
    assert terminal.config["SessionID"] == device.session_id
    assert terminal.config["PushProtVer"] == "3.1.2"
    assert terminal.config["MultiBioDataSupport"] == "0:1:0:0:0:0:0:0:0:1:0"
    assert terminal.token == protocol3.session_token(
        device.registry_code, SERIAL, device.session_id
    )

    # 4. The terminal's parameters.
    reply = terminal.request(
        "POST", f"/iclock/cdata?SN={SERIAL}&table=options", body("options_body.txt")
    )
    assert reply.body == "OK"
    device.refresh_from_db()
    assert (device.user_count, device.options["DeviceName"]) == (7, "SpeedFace-V5L")

    # 5. Punches: the same ingestion as 2.x. Door events (pin 0) and a refused access are
    # logged, not counted; the bit-string verify type reads as fingerprint.
    reply = terminal.request(
        "POST", f"/iclock/cdata?SN={SERIAL}&table=rtlog", body("rtlog_body.txt")
    )
    assert (reply.status, reply.body) == (200, "OK")
    punches = Punch.objects.filter(device_sn=SERIAL).order_by("at")
    assert [(p.employee.employee_no, p.verify_mode, p.punch_state) for p in punches] == [
        ("1002", 15, 0),
        ("1003", 1, 0),
        ("1002", 15, 1),
    ]
    assert punches[0].at == datetime(2026, 11, 26, 0, 57, 3, tzinfo=UTC)
    refused = DeviceLog.objects.filter(kind=LogKind.REJECTED_LINE, table="rtlog")
    assert sorted(refused.values_list("line_no", "code")) == [
        (3, "no_user"),
        (4, "no_user"),
        (5, "not_a_punch"),
    ]
    reply = terminal.request(
        "POST", f"/iclock/cdata?SN={SERIAL}&table=rtstate", body("rtstate_body.txt")
    )
    assert reply.body == "OK"

    # 6. Users, templates and stored transactions: answered `<table>=<rows taken>`.
    tabledata = f"/iclock/cdata?SN={SERIAL}&table=tabledata&count=2&tablename="
    reply = terminal.request("POST", tabledata + "user", body("tabledata_user_body.txt"))
    assert reply.body == "user=2"
    assert set(DeviceLog.objects.filter(kind=LogKind.USER).values_list("message", flat=True)) == {
        "PIN=1002 Name=王芳",
        "PIN=1003 Name=Li Lei",
    }
    reply = terminal.request("POST", tabledata + "biodata", body("tabledata_biodata_body.txt"))
    assert reply.body == "biodata=2"
    assert sorted(BiometricTemplate.objects.values_list("kind", "index")) == [
        ("face", 0),
        ("finger", 6),
    ]
    template_b64 = sample("tabledata_biodata_body.txt").split("tmp=")[1][:40]
    assert not any(template_b64 in (log.raw + log.message) for log in DeviceLog.objects.all())
    reply = terminal.request(
        "POST", tabledata + "transaction", body("tabledata_transaction_body.txt")
    )
    assert reply.body == "transaction=2"
    assert Punch.objects.filter(device_sn=SERIAL, at__date="2026-11-25").count() == 2

    # 7. Everything again (terminals re-send after errors): nothing doubles.
    terminal.request("POST", f"/iclock/cdata?SN={SERIAL}&table=rtlog", body("rtlog_body.txt"))
    terminal.request("POST", tabledata + "transaction", body("tabledata_transaction_body.txt"))
    assert Punch.objects.filter(device_sn=SERIAL).count() == 5

    # 8. The next start-up: registered, the same code and session.
    reply = terminal.init()
    lines = reply.body.splitlines()
    assert lines[:2] == ["registry=ok", f"RegistryCode={device.registry_code}"]
    assert f"SessionID={device.session_id}" in lines
    assert "Realtime=1" in lines
    assert terminal.ping().body == "OK"


def test_commands_go_out_in_3x_form_and_answers_are_recorded(live_server, org):
    device = make_device(SERIAL, group=org.group)
    terminal = Push3Terminal(live_server.url, SERIAL)
    terminal.connect()
    synced = drain(terminal)  # the group's people went out as 3.x user records
    assert "DATA UPDATE user Pin=1002\tName=张三\tPrivilege=0\tCardNo=" in synced
    assert all(command.startswith("DATA UPDATE user Pin=") for command in synced)
    user = DeviceCommand.objects.create(
        device=device, command="DATA UPDATE USERINFO PIN=1002\tName=张三\tPri=0\tPasswd=\tCard="
    )
    info = DeviceCommand.objects.create(device=device, command="INFO")
    reboot = DeviceCommand.objects.create(device=device, command="REBOOT")

    handed = terminal.poll()

    assert handed == [
        (user.pk, "DATA UPDATE user Pin=1002\tName=张三\tPrivilege=0\tPassword=\tCardNo="),
        (reboot.pk, "CONTROL DEVICE 03000000"),
    ]
    info.refresh_from_db()  # no 3.x form: answered "failed" by us, never sent
    assert (info.status, info.return_code, info.attempts) == (CommandStatus.FAILED, -1, 1)
    assert DeviceLog.objects.filter(code="no_3x_form").count() == 1
    assert terminal.poll() == []

    results = sample("devicecmd_body.txt").format(first=user.pk, second=reboot.pk)
    reply = terminal.request("POST", f"/iclock/devicecmd?SN={SERIAL}", results.encode())

    assert reply.body == "OK"
    user.refresh_from_db()
    reboot.refresh_from_db()
    assert (user.status, user.return_code) == (CommandStatus.DONE, 0)
    assert (reboot.status, reboot.return_code) == (CommandStatus.FAILED, -1004)
    # A positive return value is success in 3.x; -5000 (forwarded to a sub-controller) is
    # not an answer yet.
    count = DeviceCommand.objects.create(device=device, command="DATA QUERY USERINFO")
    forwarded = DeviceCommand.objects.create(device=device, command="DATA DELETE USERINFO PIN=9")
    assert [c for _i, c in terminal.poll()] == [
        "DATA QUERY tablename=user,fielddesc=*,filter=*",
        "DATA DELETE user Pin=9",
    ]
    terminal.answer([(count.pk, "DATA QUERY", 7), (forwarded.pk, "DATA DELETE", -5000)])
    count.refresh_from_db()
    forwarded.refresh_from_db()
    assert (count.status, count.return_code) == (CommandStatus.DONE, 7)
    assert forwarded.status == CommandStatus.SENT


def test_query_answers_arrive_on_querydata(live_server, org):
    device = make_device(SERIAL, group=org.group)
    terminal = Push3Terminal(live_server.url, SERIAL)
    terminal.connect()
    drain(terminal)
    query = DeviceCommand.objects.create(device=device, command="DATA QUERY ATTLOG")
    ((command_id, _text),) = terminal.poll()
    rows = sample("tabledata_transaction_body.txt").replace("transaction ", "")

    reply = terminal.request(
        "POST",
        f"/iclock/querydata?SN={SERIAL}&type=tabledata&cmdid={command_id}&tablename=transaction"
        "&count=2&packcnt=1&packidx=1",
        rows.encode(),
    )

    assert (reply.status, reply.body) == (200, "transaction=2")
    assert query.pk == command_id
    assert Punch.objects.filter(device_sn=SERIAL).count() == 2


def test_an_unanswered_3x_command_is_resent_after_the_timeout_then_expires(
    live_server, org, settings
):
    settings.DEVICE_COMMAND_TIMEOUT = 300
    settings.DEVICE_COMMAND_ATTEMPTS = 2
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    device = make_device(SERIAL, group=org.group)
    terminal = Push3Terminal(live_server.url, SERIAL)
    with time_machine.travel(start, tick=False):
        terminal.connect()
        drain(terminal)
    command = DeviceCommand.objects.create(device=device, command="DATA DELETE USERINFO PIN=77")
    sent = [(command.pk, "DATA DELETE user Pin=77")]

    with time_machine.travel(start, tick=False):
        assert terminal.poll() == sent
    with time_machine.travel(start + timedelta(seconds=200), tick=False):
        assert terminal.poll() == []
    with time_machine.travel(start + timedelta(seconds=301), tick=False):
        assert terminal.poll() == sent  # overdue: sent again, still in 3.x form
    with time_machine.travel(start + timedelta(seconds=700), tick=False):
        assert terminal.poll() == []
    command.refresh_from_db()
    assert (command.status, command.attempts) == (CommandStatus.EXPIRED, 2)


def test_a_new_3x_terminal_waits_for_approval_then_its_punches_count(live_server, org):
    terminal = Push3Terminal(live_server.url, "NEW3X00001")
    config = terminal.connect()

    device = Device.objects.get(serial="NEW3X00001")
    assert device.status == DeviceStatus.PENDING
    assert device.protocol == PushProtocol.V3
    assert not device.commands.exists()  # no INFO / CHECK: a 3.x terminal has no such thing
    assert config["SessionID"] == device.session_id
    at = datetime(2026, 11, 26, 8, 50)
    reply = terminal.rtlog([Punch3("1002", at), Punch3("1003", at + timedelta(minutes=1))])
    assert reply.body == "OK"
    assert HeldPunch.objects.filter(reason=HoldReason.PENDING_DEVICE).count() == 2
    assert not Punch.objects.exists()

    result = device_approve(actor=org.hr.user, serial="NEW3X00001", attendance_group="STD")

    assert result.released.recorded == 2
    assert Punch.objects.filter(device_sn="NEW3X00001").count() == 2


def test_a_terminal_that_announces_2x_again_is_served_in_2x(live_server, org):
    device = make_device(SERIAL, group=org.group)
    terminal = Push3Terminal(live_server.url, SERIAL)
    terminal.connect()
    device.refresh_from_db()
    assert device.protocol == PushProtocol.V3

    reply = terminal.request("GET", f"/iclock/cdata?SN={SERIAL}&options=all&pushver=2.4.1")

    assert reply.body.startswith(f"GET OPTION FROM: {SERIAL}\n")
    device.refresh_from_db()
    assert device.protocol == PushProtocol.V2
    assert DeviceLog.objects.filter(code="protocol_changed").count() == 2


def test_a_template_enrolled_on_one_3x_terminal_reaches_the_other(live_server, org):
    """BIODATA from terminal A is stored encrypted and copied to terminal B of the same group,
    in 3.x form with the type A sent (a visible-light face stays type 9)."""
    make_device(SERIAL, group=org.group)
    make_device("CGXH3X0000002", group=org.group)
    a = Push3Terminal(live_server.url, SERIAL)
    b = Push3Terminal(live_server.url, "CGXH3X0000002")
    a.connect()
    b.connect()
    drain(a)
    drain(b)
    face = b"\x8a\x01visible-light face template" * 20

    reply = a.biodata([("1003", 9, 0, face)])

    assert reply.body == "biodata=1"
    stored = BiometricTemplate.objects.get(employee=org.colleague)
    assert (stored.kind, stored.index, stored.version) == ("face", 0, "58.1")
    assert face not in bytes(stored.ciphertext)
    logged = DeviceLog.objects.get(code="template_stored")
    assert logged.message == "PIN=1003 face (visible light) 0"
    (copy,) = [c for c in drain(b) if "biodata" in c]
    assert copy.startswith("DATA UPDATE biodata Pin=1003\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=9")
    assert copy.endswith("\tTmp=" + base64.b64encode(face).decode())
    assert drain(a) == []  # not sent back to the terminal it came from


def test_the_simulator_behind_simulate_terminal_speaks_3x(live_server, org):
    """`PROTOCOLS["3"]`: the same driving methods as the 2.x simulator, over 3.x."""
    make_device(SERIAL, group=org.group)
    make_device("CGXH3X0000002", group=org.group)
    a = PROTOCOLS["3"](live_server.url, SERIAL)
    b = PROTOCOLS["3"](live_server.url, "CGXH3X0000002")
    a.handshake()
    b.handshake()
    a.poll_until_quiet()
    b.poll_until_quiet()
    assert {"1002", "1003"} <= set(a.users)  # the group's people, as 3.x user records

    assert a.upload_punches([("1002", datetime(2026, 11, 26, 8, 59))]) == "OK"
    assert Punch.objects.get(device_sn=SERIAL).employee == org.employee
    assert a.enrol("1003", finger=6) == "biodata=1"
    b.poll_until_quiet()

    assert b.templates[("1003", "BIODATA", "6")] == a.templates[("1003", "BIODATA", "6")]
    assert all(r.return_code == 0 for r in a.received + b.received)


def test_simulate_terminal_command_with_protocol_3(live_server, org, capsys):
    """`ztk simulate-terminal --protocol 3`: registry and session, rtlog punches, a BIODATA
    enrolment, commands in 3.x form answered like a device."""
    make_device("SIMC3X0003", group=org.group)
    call_command(
        "simulate-terminal",
        url=live_server.url,
        serial="SIMC3X0003",
        protocol="3",
        pins="1002,1003",
        date="2026-12-01",
        enrol="1002",
        polls=2,
        delay=0,
    )
    out = capsys.readouterr().out
    device = Device.objects.get(serial="SIMC3X0003")
    assert out.splitlines()[0].startswith("ServerVersion=")
    assert f"SessionID={device.session_id}" not in out.splitlines()[0]
    assert "(4 punches): OK" in out
    assert "enrolled PIN 1002: biodata=1" in out
    assert "DATA UPDATE user Pin=1002" in out
    assert "users on this terminal: 7" in out
    assert device.protocol == PushProtocol.V3 and device.registry_code
    assert Punch.objects.filter(device_sn="SIMC3X0003").count() == 4
    assert BiometricTemplate.objects.filter(employee=org.employee).count() == 1
