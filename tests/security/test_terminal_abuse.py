"""Terminal abuse over real HTTP: every iclock endpoint × every field × forbidden characters.

A live server and `http.client`, as a terminal (or someone pretending to be one) talks to
it. For each place a terminal's text enters — body lines of every table, option pairs,
INFO fields, command results, photo headers, query parameters, the serial, a header —
each character the shared text rule forbids is sent, and:

- the answer is never a 5xx (on PostgreSQL a NUL used to roll the batch back with a 500,
  so the terminal resent it forever);
- the good lines of the same upload are stored and the terminal gets its normal answer;
- the bad piece is refused alone with `invalid_text` in the terminal's log, shown escaped;
- nothing stored anywhere (punches, held punches, terminal fields, logs, commands, audit)
  holds a forbidden character.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.devices.conftest import SERIAL, image_bytes, make_device, photo_body
from tests.devices.terminal import Terminal
from ztk.audit.models import AuditEvent
from ztk.core.text import escape_forbidden, text_problem
from ztk.devices.models import (
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceLog,
    DevicePhoto,
    DeviceStatus,
    HeldPunch,
)
from ztk.punches.models import Punch

# Every kind the rule forbids: NUL, other C0 controls, DEL, a C1 control, a bidi override,
# a non-character. (A lone surrogate cannot be written in UTF-8; in a query it decodes to
# U+FFFD, which is allowed, and in a body it falls back to latin-1 and meets the C1 rule.)
FORBIDDEN = {
    "nul": "\x00",
    "soh": "\x01",
    "esc": "\x1b",
    "del": "\x7f",
    "c1": "\x85",
    "rlo": "\u202e",
    "nonchar": "\ufffe",
}


def line(pin: str, minute: int, *rest: str) -> str:
    fields = [pin, f"2026-11-26 08:{minute:02d}:00", "0", "1", "0", "0", "0", *rest]
    return "\t".join(fields)


def spoil(text: str, index: int, char: str, sep: str = "\t") -> str:
    """`text` with `char` inside its field number `index`."""
    parts = text.split(sep)
    parts[index] = parts[index][:1] + char + parts[index][1:]
    return sep.join(parts)


@dataclass
class Round:
    """One forbidden character sent through one field: what came back."""

    status: int
    body: str


@dataclass(frozen=True)
class Case:
    """How to put a character into one field, and what must hold after every character.

    Each case talks as a terminal of its own, so all cases share one live server and one
    database (a flush per case costs seconds on PostgreSQL).
    """

    name: str
    send: Callable[[Terminal, str, int], Round]
    check: Callable[[list[Round], Device], None]


def _post(terminal: Terminal, table: str, body: str, **params) -> Round:
    response, answer = terminal.upload(table, body.encode(), **params)
    return Round(response.status, answer)


def _logged(device: Device, code: str = "invalid_text") -> list[DeviceLog]:
    return list(DeviceLog.objects.filter(device=device, code=code).order_by("id"))


def _punches(device: Device) -> int:
    return Punch.objects.filter(device_sn=device.serial).count()


# --------------------------------------------------------------------------- the cases


def attlog_field(index: int) -> Case:
    def send(terminal: Terminal, char: str, n: int) -> Round:
        good = [line("1002", 2 * n), line("1003", 2 * n + 1)]
        bad = spoil(line("1002", 40 + n, "0", "0", "0"), index, char)
        return _post(terminal, "ATTLOG", "\n".join([good[0], bad, good[1]]) + "\n", Stamp=n + 1)

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.body for r in rounds} == {"OK: 2"}
        assert _punches(device) == 2 * len(FORBIDDEN)
        refused = _logged(device)
        assert [(e.table, e.line_no) for e in refused] == [("ATTLOG", 2)] * len(FORBIDDEN)
        assert all("\\" in e.raw for e in refused)  # the character is shown as an escape
        assert device.attlog_stamp == str(len(FORBIDDEN))

    return Case(f"attlog-field-{index}", send, check)


def rtlog_case() -> Case:
    def send(terminal: Terminal, char: str, n: int) -> Round:
        def rt(pin: str, minute: int) -> str:
            return f"time=2026-11-26 09:{minute:02d}:00\tpin={pin}\tinoutstatus=0\tverifytype=1"

        bad = spoil(rt("1003", 40 + n), 1, char)
        body = "\n".join([rt("1002", 2 * n), bad, rt("1003", 2 * n + 1)]) + "\n"
        return _post(terminal, "rtlog", body)

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.body for r in rounds} == {"OK: 2"}
        assert _punches(device) == 2 * len(FORBIDDEN)
        assert len(_logged(device)) == len(FORBIDDEN)

    return Case("rtlog", send, check)


def operlog_case(kind: str) -> Case:
    lines = {
        "user-name": "USER PIN=108\tName=张伟\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0",
        "oplog": "OPLOG 4\t0\t2026-11-26 08:57:03\t108\t0\t0\t0",
        "fp": "FP PIN=108\tFID=6\tSize=8\tValid=1\tTMP=QUJDREVGR0g=",
    }
    field_index = {"user-name": 1, "oplog": 3, "fp": 4}

    def send(terminal: Terminal, char: str, n: int) -> Round:
        good = lines["user-name"].replace("108", str(200 + n))
        bad = spoil(lines[kind], field_index[kind], char)
        other = lines["oplog"]
        return _post(terminal, "OPERLOG", f"{good}\n{bad}\n{other}\n", OpStamp=n + 1)

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.body for r in rounds} == {"OK: 2"}
        assert [e.line_no for e in _logged(device)] == [2] * len(FORBIDDEN)
        assert device.operlog_stamp == str(len(FORBIDDEN))

    return Case(f"operlog-{kind}", send, check)


def options_case(part: str) -> Case:
    def send(terminal: Terminal, char: str, n: int) -> Round:
        bad = f"~Bad{n}Key=v" if part == "value" else f"~Bad{n}Key=v"
        bad = spoil(bad, 1 if part == "value" else 0, char, sep="=")
        body = f"~DeviceName=K40-{n},{bad},FWVersion=Ver 6.{n}\n"
        return _post(terminal, "options", body)

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.body for r in rounds} == {"OK"}
        assert device.options["DeviceName"] == f"K40-{len(FORBIDDEN) - 1}"
        assert device.firmware == f"Ver 6.{len(FORBIDDEN) - 1}"
        assert not [key for key in device.options if key.startswith("Bad")]
        assert [e.table for e in _logged(device)] == ["options"] * len(FORBIDDEN)

    return Case(f"options-{part}", send, check)


def other_table_case() -> Case:
    def send(terminal: Terminal, char: str, n: int) -> Round:
        return _post(terminal, "USERINFO", f"PIN=1\tName=a{char}b\n")

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.body for r in rounds} == {"OK"}  # not used: accepted, nothing stored
        assert _punches(device) == 0

    return Case("userinfo-table", send, check)


def info_case() -> Case:
    def send(terminal: Terminal, char: str, n: int) -> Round:
        response, answer = terminal.poll(info=f"Ver 8.0.{n},5,3{char},150,192.168.1.201")
        return Round(response.status, answer)

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.status for r in rounds} == {200}
        assert (device.firmware, device.user_count, device.log_count) == (
            f"Ver 8.0.{len(FORBIDDEN) - 1}",
            5,
            150,
        )
        assert device.fp_count is None  # the refused field
        assert [e.table for e in _logged(device)] == ["INFO"] * len(FORBIDDEN)

    return Case("getrequest-info", send, check)


def devicecmd_case() -> Case:
    def send(terminal: Terminal, char: str, n: int) -> Round:
        device = Device.objects.get(serial=terminal.serial)
        good = DeviceCommand.objects.create(device=device, command="INFO")
        other = DeviceCommand.objects.create(device=device, command="CHECK")
        body = f"ID={good.pk}&Return=0&CMD=INFO\nID={other.pk}&Return=0&CMD=CH{char}ECK\n"
        response, answer = terminal.command_results(body.encode())
        return Round(response.status, answer)

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.body for r in rounds} == {"OK"}
        statuses = list(
            DeviceCommand.objects.filter(device=device)
            .order_by("id")
            .values_list("status", flat=True)
        )
        assert statuses == [CommandStatus.DONE, CommandStatus.QUEUED] * len(FORBIDDEN)
        assert [e.table for e in _logged(device)] == ["devicecmd"] * len(FORBIDDEN)

    return Case("devicecmd", send, check)


def photo_case(fdata: bool) -> Case:
    def send(terminal: Terminal, char: str, n: int) -> Round:
        image = image_bytes(color=(n * 30, 10, 10))
        body = photo_body(image, name=f"2026112608{n:02d}00-10{char}02.jpg")
        response, answer = terminal.photo(body, fdata=fdata, Stamp=n + 1)
        return Round(response.status, answer)

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.body for r in rounds} == {"OK"}
        # The picture is fine, so it is kept; the refused name links it to no punch.
        pins = DevicePhoto.objects.filter(device=device).values_list("pin", flat=True)
        assert list(pins) == [""] * len(FORBIDDEN)
        # NUL separates the header's pieces in this format, so it refuses nothing there.
        assert [e.table for e in _logged(device)] == ["ATTPHOTO"] * (len(FORBIDDEN) - 1)

    return Case("fdata-header" if fdata else "attphoto-header", send, check)


def parameter_case(name: str) -> Case:
    def send(terminal: Terminal, char: str, n: int) -> Round:
        value = f"{n}{char}9"
        if name == "table":
            return _post(terminal, f"ATT{char}LOG", line("1002", n) + "\n")
        if name == "pushver":
            response, answer = terminal.request(
                "GET", f"/iclock/cdata?SN={terminal.serial}&options=all&pushver=2.4{_q(char)}1"
            )
            return Round(response.status, answer)
        if name in {"OpStamp"}:
            return _post(terminal, "OPERLOG", "OPLOG 4\t0\t2026-11-26 08:57:03\t1\n", OpStamp=value)
        if name == "PhotoStamp":
            image = image_bytes(color=(n * 30, 90, 10))
            response, answer = terminal.request(
                "POST",
                f"/iclock/fdata?SN={terminal.serial}&PhotoStamp={_q(value)}",
                photo_body(image),
            )
            return Round(response.status, answer)
        return _post(terminal, "ATTLOG", line("1002", n) + "\n", Stamp=value)

    def check(rounds: list[Round], device: Device) -> None:
        assert max(r.status for r in rounds) < 500
        assert device.stamps() == {"ATTLOG": "", "OPERLOG": "", "ATTPHOTO": ""}
        assert device.push_version == ""
        refused = _logged(device)
        assert [e.table for e in refused] == ["query"] * len(FORBIDDEN)
        assert all(name in e.message for e in refused)
        if name == "Stamp":  # the upload itself counts; only the stamp is left out
            assert {r.body for r in rounds} == {"OK: 1"}
            assert _punches(device) == len(FORBIDDEN)
        if name == "table":
            assert {r.body for r in rounds} == {"OK"}
            assert _punches(device) == 0

    return Case(f"query-{name}", send, check)


def serial_case() -> Case:
    def send(terminal: Terminal, char: str, n: int) -> Round:
        response, answer = terminal.request("GET", f"/iclock/getrequest?SN=NEW{_q(char)}{n}")
        return Round(response.status, answer)

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.status for r in rounds} == {400}
        assert not Device.objects.filter(serial__startswith="NEW").exists()

    return Case("query-SN", send, check)


def user_agent_case() -> Case:
    """A header is text too: it reaches the audit log with a new terminal's first contact."""

    def send(terminal: Terminal, char: str, n: int) -> Round:
        response, answer = terminal.request(
            "GET",
            f"/iclock/cdata?SN={terminal.serial}UA{n}&options=all",
            headers={"User-Agent": f"iClock{char}Proxy".encode()},
        )
        return Round(response.status, answer)

    def check(rounds: list[Round], device: Device) -> None:
        assert {r.status for r in rounds} == {200}
        assert Device.objects.filter(serial__startswith=f"{device.serial}UA").count() == len(
            FORBIDDEN
        )

    return Case("header-user-agent", send, check)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


CASES = [
    *(attlog_field(index) for index in range(7)),
    rtlog_case(),
    *(operlog_case(kind) for kind in ("user-name", "oplog", "fp")),
    options_case("key"),
    options_case("value"),
    other_table_case(),
    info_case(),
    devicecmd_case(),
    photo_case(fdata=False),
    photo_case(fdata=True),
    *(parameter_case(name) for name in ("table", "pushver", "Stamp", "OpStamp", "PhotoStamp")),
    serial_case(),
    user_agent_case(),
]


# --------------------------------------------------------------------------- the checks


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def stored_text() -> Iterator[tuple[str, str]]:
    """Every text a terminal request can write, with where it was found."""
    sources = [
        (Punch, ["pin", "raw", "device_sn", "remark"]),
        (HeldPunch, ["pin", "raw", "work_code", "device_sn"]),
        (Device, ["serial", "ip", "firmware", "push_version", "options", "registered_from"]),
        (DeviceLog, ["device_sn", "table", "code", "message", "raw"]),
        (DeviceCommand, ["command", "result"]),
        (DevicePhoto, ["name", "pin", "file"]),
        (AuditEvent, ["action", "user_agent", "changes"]),
    ]
    for model, fields in sources:
        for row in model.objects.values_list(*fields):
            for name, value in zip(fields, row, strict=True):
                for text in _strings(value):
                    yield f"{model.__name__}.{name}", text


@pytest.fixture
def photo_dir(settings, tmp_path):
    settings.DEVICE_PHOTO_DIR = str(tmp_path / "device-photos")
    return tmp_path


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_every_field_refuses_forbidden_characters_alone_and_never_fails(
    live_server, org, photo_dir, settings
):
    settings.DEVICE_MAX_PENDING_PER_ADDRESS = 100  # the user-agent case registers terminals
    failures: list[str] = []
    for index, case in enumerate(CASES):
        device = make_device(f"ABUSE{index:02d}", group=org.group)
        terminal = Terminal(live_server.url, device.serial)
        try:
            rounds = []
            for n, (label, char) in enumerate(FORBIDDEN.items()):
                result = case.send(terminal, char, n)
                assert result.status < 500, (label, result.status, result.body[:200])
                rounds.append(result)
            device.refresh_from_db()
            case.check(rounds, device)
        except AssertionError as exc:
            failures.append(f"{case.name}: {exc}")
    polluted = [
        (where, escape_forbidden(text, multiline=True)[:80])
        for where, text in stored_text()
        if text_problem(text, multiline=True) is not None
    ]
    assert failures == []
    assert polluted == []


# --------------------------------------------------------------------------- HR pages


@pytest.mark.django_db
@pytest.mark.parametrize("char", list(FORBIDDEN.values()), ids=list(FORBIDDEN))
def test_the_terminal_pages_answer_404_for_a_hostile_serial_or_group(client, org, char):
    make_device(group=org.group)
    client.force_login(org.hr.user)
    hostile = _q(f"{SERIAL}{char}")
    for method, url in [
        ("get", f"/hr/devices/{hostile}/"),
        ("get", f"/hr/devices/{hostile}/photos/1/"),
        ("post", f"/hr/devices/{hostile}/update/"),
        ("post", f"/hr/devices/{hostile}/approve/"),
        ("post", f"/hr/devices/{hostile}/command/"),
        ("post", f"/hr/devices/groups/STD{_q(char)}/allow-list/"),
    ]:
        assert getattr(client, method)(url).status_code == 404, url


@pytest.mark.django_db
@pytest.mark.parametrize("char", list(FORBIDDEN.values()), ids=list(FORBIDDEN))
def test_the_terminal_forms_refuse_forbidden_characters_without_a_5xx(client, org, char):
    make_device(group=org.group, name="Gate")
    make_device("PEND0001", status=DeviceStatus.PENDING)
    client.post(
        f"/iclock/cdata?SN={SERIAL}&table=ATTLOG",
        data=b"77\t2026-11-26 08:50:00\t0\t1\n",
        content_type="text/plain",
    )
    client.force_login(org.hr.user)
    device = f"/hr/devices/{SERIAL}"
    settings = {"name": "Gate", "attendance_group": "STD", "time_zone": "", "allowed_networks": ""}
    forms = [
        (f"{device}/update/", {**settings, "name": f"Gate{char}2"}),
        (f"{device}/update/", {**settings, "time_zone": f"Asia/Shang{char}hai"}),
        (f"{device}/update/", {**settings, "allowed_networks": f"10.0.0.0/8\n1{char}0.1.0.0/16"}),
        ("/hr/devices/PEND0001/approve/", {"name": f"Do{char}or"}),
        (f"{device}/command/", {"kind": f"INFO{char}"}),
        (f"{device}/command/", {"kind": "range", "start": f"2026-11-26T08{char}", "end": "x"}),
        ("/hr/devices/held/assign/", {"pin": f"77{char}", "employee_no": "1002"}),
        ("/hr/devices/held/assign/", {"pin": "77", "employee_no": f"10{char}02"}),
        ("/hr/devices/held/assign/", {"pin": "77", "serial": f"CG{char}", "employee_no": "1002"}),
        ("/hr/devices/held/dismiss/", {"pin": "77", "reason": f"test {char} PIN"}),
        ("/hr/devices/groups/STD/allow-list/", {"networks": f"10.0.0.0/8\n{char}"}),
    ]
    for url, data in forms:
        assert client.post(url, data).status_code < 500, (url, data)

    assert Device.objects.get(serial=SERIAL).name == "Gate"
    assert Device.objects.get(serial="PEND0001").status == DeviceStatus.PENDING
    assert HeldPunch.objects.get(pin="77").resolved_at is None
    assert not DeviceCommand.objects.filter(device__serial=SERIAL).exists()
    assert [where for where, text in stored_text() if text_problem(text, multiline=True)] == []


# --------------------------------------------------------------------------- the escape


@given(st.text())
def test_escaping_for_the_log_always_gives_storable_text(text):
    escaped = escape_forbidden(text, multiline=True)
    assert text_problem(escaped, multiline=True) is None
    if text_problem(text, multiline=True) is None:
        assert escaped == text  # clean text is kept as it is
