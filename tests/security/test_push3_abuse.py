"""Push protocol 3.x abuse over real HTTP: forbidden characters, huge bodies, unknown
serials, a wrong session token and a replayed registry.

A live server and the 3.x simulator (or raw requests), as a terminal — or someone pretending
to be one — talks to it. What must hold: never a 5xx; the good part of an upload is stored
and the bad piece refused alone and logged escaped; a refused request stores nothing; a
replayed registry changes nothing; biometric template bytes never reach a log.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from tests.devices.conftest import make_device
from tests.devices.test_protocol3 import sample
from tests.security.test_terminal_abuse import FORBIDDEN
from ztk.audit.models import AuditEvent
from ztk.core.text import text_problem
from ztk.devices.models import (
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceLog,
    DeviceStatus,
    HeldPunch,
    PushProtocol,
)
from ztk.devices.simulator3 import Punch3, Push3Terminal
from ztk.punches.models import Punch

pytestmark = pytest.mark.django_db(transaction=True)

SERIAL = "CGXH3X0000001"
AT = datetime(2026, 11, 26, 8, 50)


def rt(pin: str, minute: int) -> str:
    return f"time=2026-11-26 09:{minute:02d}:00\tpin={pin}\tevent=0\tinoutstatus=0\tverifytype=15"


@pytest.fixture(autouse=True)
def fresh_registration_counters():
    """Registration rates live in the cache, which outlives a test (tests/devices does the
    same): an earlier test's registrations from 127.0.0.1 must not count here."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def terminal(live_server, org):
    make_device(SERIAL, group=org.group)
    terminal = Push3Terminal(live_server.url, SERIAL)
    terminal.connect()
    return terminal


def _stored_text() -> list[str]:
    """Every text the terminal side wrote that could hold a forbidden character."""
    texts: list[str] = []
    for device in Device.objects.all():
        texts += [device.firmware, device.push_version, str(device.options)]
    for log in DeviceLog.objects.all():
        texts += [log.message, log.raw, log.table, log.code]
    texts += [p.raw for p in Punch.objects.all()] + [h.raw for h in HeldPunch.objects.all()]
    texts += [str(e.changes) for e in AuditEvent.objects.all()]
    return texts


# --------------------------------------------------------------------------- characters


@pytest.mark.parametrize("name", list(FORBIDDEN))
def test_forbidden_characters_are_refused_piece_by_piece(terminal, name):
    char = FORBIDDEN[name]
    # Registry: the spoilt pair alone is left out.
    reply = terminal.register(terminal.registry_body(**{"~DeviceName": f"Speed{char}Face"}))
    assert reply.status == 200 and reply.body.startswith("RegistryCode=")
    device = Device.objects.get(serial=SERIAL)
    assert "DeviceName" not in device.options["registry"]
    assert device.options["registry"]["DeviceType"] == "att"
    # rtlog: the good lines count, the spoilt one is refused with its number.
    bad = rt("1003", 30).replace("pin=1003", f"pin=10{char}03")
    body = "\n".join([rt("1002", 1), bad, rt("1003", 2)]) + "\n"
    reply = terminal.request("POST", f"/iclock/cdata?SN={SERIAL}&table=rtlog", body.encode())
    assert (reply.status, reply.body) == (200, "OK")
    assert Punch.objects.filter(device_sn=SERIAL).count() == 2
    # tabledata user and biodata: the good row is taken, the spoilt one refused.
    users = f"user pin=1002\tname=A{char}B\nuser pin=1003\tname=Li\n"
    reply = terminal.request(
        "POST",
        f"/iclock/cdata?SN={SERIAL}&table=tabledata&tablename=user&count=2",
        users.encode(),
    )
    assert reply.body == "user=1"
    good = base64.b64encode(b"template-bytes-1").decode()
    biodata = f"biodata pin=1002\ttype=1\ttmp={good}\nbiodata pin=1003\ttype=1\ttmp=AB{char}CD\n"
    reply = terminal.request(
        "POST",
        f"/iclock/cdata?SN={SERIAL}&table=tabledata&tablename=biodata&count=2",
        biodata.encode("utf-8", errors="surrogatepass"),
    )
    assert reply.body == "biodata=1"
    # A spoilt table name is left out of the query: nothing is read.
    reply = terminal.request(
        "POST", f"/iclock/cdata?SN={SERIAL}&table=tabledata&tablename=us%00er", users.encode()
    )
    assert reply.status == 400

    refused = DeviceLog.objects.filter(code="invalid_text")
    assert {log.table for log in refused} >= {"registry", "rtlog", "user", "biodata", "query"}
    assert all(text_problem(text, multiline=True) is None for text in _stored_text())
    assert not any(good in text for text in _stored_text())


# --------------------------------------------------------------------------- sizes


def test_huge_bodies_are_refused_with_413_and_logged(terminal, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    huge = ("x" * 1000 + "\n").encode() * 100

    for path in (
        f"/iclock/registry?SN={SERIAL}",
        f"/iclock/cdata?SN={SERIAL}&table=rtlog",
        f"/iclock/cdata?SN={SERIAL}&table=tabledata&tablename=biodata&count=1",
        f"/iclock/querydata?SN={SERIAL}&type=tabledata&tablename=user&count=1",
        f"/iclock/devicecmd?SN={SERIAL}",
    ):
        reply = terminal.request("POST", path, huge)
        assert reply.status == 413, path
    assert DeviceLog.objects.filter(code="too_large").count() == 5
    assert Device.objects.get(serial=SERIAL).options["registry"]["DeviceType"] == "att"


def test_long_lines_are_refused_alone(terminal):
    long_template = base64.b64encode(b"y" * 60_000).decode()  # over the template limit
    body = (
        f"biodata pin=1002\ttype=1\ttmp={long_template}\n"
        f"biodata pin=1003\ttype=9\ttmp={base64.b64encode(b'face').decode()}\n"
    )
    reply = terminal.tabledata(
        "biodata", [line.removeprefix("biodata ") for line in body.split("\n") if line]
    )
    assert reply.body == "biodata=1"
    refusal = DeviceLog.objects.get(table="biodata", kind="rejected_line")
    assert refusal.code == "line_too_long"
    assert long_template[:40] not in refusal.raw
    # An rtlog line over the limit: refused, its neighbours count.
    lines = [rt("1002", 1), rt("1003", 2) + "\tx=" + "z" * 2000]
    reply = terminal.request(
        "POST", f"/iclock/cdata?SN={SERIAL}&table=rtlog", ("\n".join(lines) + "\n").encode()
    )
    assert reply.body == "OK"
    assert Punch.objects.filter(device_sn=SERIAL).count() == 1


# --------------------------------------------------------------------------- serials


def test_unknown_serials_register_only_within_the_limits(live_server, org, settings):
    settings.DEVICE_REGISTRATIONS_PER_HOUR = 2
    first = Push3Terminal(live_server.url, "UNKNOWN3X1")
    second = Push3Terminal(live_server.url, "UNKNOWN3X2")
    third = Push3Terminal(live_server.url, "UNKNOWN3X3")

    assert first.register().status == 200
    assert second.register().status == 200
    reply = third.register()

    assert reply.status == 429
    assert "RegistryCode" not in reply.body
    assert set(Device.objects.values_list("serial", flat=True)) == {"UNKNOWN3X1", "UNKNOWN3X2"}
    assert set(Device.objects.values_list("status", flat=True)) == {DeviceStatus.PENDING}
    assert not DeviceCommand.objects.exists()
    # Their punches wait for HR; none counts.
    first.download_config()
    assert first.rtlog([Punch3("1002", AT)]).body == "OK"
    assert HeldPunch.objects.count() == 1
    assert not Punch.objects.exists()


def test_push_before_registry_and_a_hostile_serial_are_refused(live_server, org):
    make_device(SERIAL, group=org.group)
    terminal = Push3Terminal(live_server.url, SERIAL)
    assert terminal.download_config().status == 406  # never registered
    hostile = Push3Terminal(live_server.url, "A%0ABC")
    assert hostile.register().status == 400
    assert Device.objects.count() == 1


def test_a_disabled_terminal_is_refused_at_registry_and_push(live_server, org):
    make_device(SERIAL, group=org.group, status=DeviceStatus.DISABLED)
    terminal = Push3Terminal(live_server.url, SERIAL)
    assert terminal.register().status == 406
    assert terminal.download_config().status == 406
    assert not Device.objects.get().registry_code


# --------------------------------------------------------------------------- session


def test_a_wrong_session_token_is_refused_and_stores_nothing(terminal, org):
    device = Device.objects.get(serial=SERIAL)
    command = DeviceCommand.objects.create(device=device, command="DATA DELETE USERINFO PIN=1")
    right = terminal.session_id
    terminal.session_id = "0" * 32  # the token of another session

    answers = [
        terminal.rtlog([Punch3("1002", AT)]),
        terminal.tabledata("user", ["pin=5\tname=X"]),
        terminal.request("GET", f"/iclock/getrequest?SN={SERIAL}"),
        terminal.answer([(command.pk, "DATA DELETE", 0)]),
        terminal.download_config(),
        terminal.ping(),
    ]

    assert {a.status for a in answers} == {401}
    assert not Punch.objects.exists() and not HeldPunch.objects.exists()
    command.refresh_from_db()
    assert (command.status, command.attempts) == (CommandStatus.QUEUED, 0)
    refusal = DeviceLog.objects.get(code="bad_session_token")  # once per interval
    assert refusal.kind == "refused"
    # The real session still works; a request without a token is served (some firmware
    # sends none); the check can be switched off for firmware that computes it otherwise.
    terminal.session_id = right
    assert terminal.rtlog([Punch3("1002", AT)]).body == "OK"
    terminal.send_token = False
    assert terminal.rtlog([Punch3("1003", AT)]).body == "OK"
    assert Punch.objects.count() == 2


def test_the_token_check_can_be_switched_off(terminal, settings):
    settings.DEVICE_PUSH3_TOKEN_CHECK = False
    terminal.session_id = "F" * 32
    assert terminal.rtlog([Punch3("1002", AT)]).body == "OK"


def test_a_replayed_registry_changes_nothing(terminal, live_server, org):
    device = Device.objects.get(serial=SERIAL)
    code, session = device.registry_code, device.session_id
    commands = DeviceCommand.objects.count()  # the group's people, queued for the terminal
    attacker = Push3Terminal(live_server.url, SERIAL)

    for _ in range(3):
        reply = attacker.register(sample("registry_body.txt"))
        assert reply.body == f"RegistryCode={code}\n"
        assert attacker.session_id == session
        assert attacker.download_config().status == 200

    device.refresh_from_db()
    assert (device.registry_code, device.session_id) == (code, session)
    assert AuditEvent.objects.filter(action="devices.device.registry").count() == 1
    assert DeviceCommand.objects.count() == commands
    # The real terminal is not locked out.
    assert terminal.rtlog([Punch3("1002", AT)]).body == "OK"


def test_a_registry_from_outside_the_allow_list_is_refused(terminal, org):
    device = Device.objects.get(serial=SERIAL)
    Device.objects.filter(pk=device.pk).update(allowed_networks=["10.20.0.0/16"])

    reply = terminal.register(terminal.registry_body(FirmVer="evil"))

    assert reply.status == 403
    device.refresh_from_db()
    assert device.firmware == "ZAM180-NF-Ver1.1.17"
    assert DeviceLog.objects.filter(code="address_not_allowed").count() == 1


def test_the_session_is_renewed_after_its_hours_and_the_old_token_then_fails(
    live_server, org, settings
):
    settings.DEVICE_PUSH3_SESSION_HOURS = 24
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    make_device(SERIAL, group=org.group)
    terminal = Push3Terminal(live_server.url, SERIAL)
    with time_machine.travel(start, tick=False):
        terminal.connect()
    old = terminal.session_id
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        terminal.register()
        assert terminal.session_id == old  # within the hours: the same session
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        stale = Push3Terminal(live_server.url, SERIAL, registry_code=terminal.registry_code,
                              session_id=old)  # fmt: skip
        terminal.register()
        assert terminal.session_id != old
        assert terminal.download_config().status == 200
        assert stale.ping().status == 401
        assert terminal.ping().status == 200
    assert Device.objects.get().protocol == PushProtocol.V3
