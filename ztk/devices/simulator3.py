"""A terminal that speaks push protocol 3.x to a server over real HTTP, as firmware does.

Used by the tests (registry → push → uploads → commands over a live server) and meant for
`ztk simulate-terminal --protocol 3`: it registers, downloads the configuration, keeps the
session token, uploads punches (`rtlog`), users and templates (`tabledata`), and polls and
answers commands like a device. Only the standard library: nothing of the server is used,
so what it proves is what a real terminal would see on the wire.
"""

from __future__ import annotations

import base64
import http.client
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, urlsplit

from .protocol3 import session_token
from .simulator import PROTOCOLS, PushTerminal, enrolment_template

USER_AGENT = "iClock Proxy/1.09"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Punch3:
    """One access event as an rtlog line: a verified person (event 0) by default."""

    pin: str
    at: datetime
    verify: int | str = 15  # face
    inout: int = 0
    event: int = 0
    door: int = 1
    card: str = "0"

    def line(self, index: int) -> str:
        return "\t".join(
            [
                f"time={self.at.strftime(TIME_FORMAT)}",
                f"pin={self.pin}",
                f"cardno={self.card}",
                f"eventaddr={self.door}",
                f"event={self.event}",
                f"inoutstatus={self.inout}",
                f"verifytype={self.verify}",
                f"index={index}",
                "sitecode=0",
                "linkid=0",
            ]
        )


@dataclass
class Push3Terminal:
    """A 3.x terminal (Security PUSH) pointed at `base_url`."""

    base_url: str
    serial: str
    source: str | None = None  # source address (any 127.x.y.z on Linux loopback)
    device_type: str = "att"
    firmware: str = "ZAM180-NF-Ver1.1.17"
    pushver: str = "3.1.2"
    registry_code: str = ""
    session_id: str = ""
    config: dict[str, str] = field(default_factory=dict)
    event_index: int = 0
    answered: list[tuple[int, str, int]] = field(default_factory=list)
    send_token: bool = True

    # ------------------------------------------------------------------ transport

    @property
    def token(self) -> str | None:
        if not (self.send_token and self.registry_code and self.session_id):
            return None
        return session_token(self.registry_code, self.serial, self.session_id)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Reply:
        parts = urlsplit(self.base_url)
        conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1",
            parts.port,
            timeout=30,
            source_address=(self.source, 0) if self.source else None,
        )
        sent = {
            "User-Agent": USER_AGENT,
            "Accept": "application/push",
            "Accept-Charset": "UTF-8",
            "Accept-Language": "zh-CN",
        }
        if self.token:
            sent["Cookie"] = f"token={self.token}"
        if body is not None:
            sent["Content-Type"] = "application/push; charset=UTF-8"
        sent.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, data.decode("utf-8", errors="replace"), reply_headers)
        finally:
            conn.close()

    def _path(self, endpoint: str, **params: object) -> str:
        query = "".join(f"&{k}={quote(str(v), safe='')}" for k, v in params.items())
        return f"/iclock/{endpoint}?SN={quote(self.serial, safe='')}{query}"

    # ------------------------------------------------------------------ start-up

    def init(self) -> Reply:
        """`GET cdata?options=all`: a registered terminal gets its code and configuration."""
        reply = self.request(
            "GET",
            self._path(
                "cdata",
                options="all",
                pushver=self.pushver,
                DeviceType=self.device_type,
                PushOptionsFlag=1,
                language=83,
            ),
        )
        values = _key_values(reply.body)
        if values.get("registry") == "ok" and values.get("RegistryCode"):
            self.registry_code = values["RegistryCode"]
            self._take_config(values)
        return reply

    def registry_body(self, **extra: str) -> str:
        values = {
            "DeviceType": self.device_type,
            "~DeviceName": "SpeedFace-V5L",
            "FirmVer": self.firmware,
            "PushVersion": self.pushver,
            "CommType": "ethernet",
            "MaxPackageSize": "2048000",
            "LockCount": "1",
            "ReaderCount": "2",
            "MachineType": "101",
            "~MaxUserCount": "3000",
            "~MaxAttLogCount": "100000",
            "IPAddress": "192.168.1.201",
            "FaceFunOn": "1",
            "FingerFunOn": "1",
            "StringPinFunOn": "1",
            "MultiBioDataSupport": "0:1:0:0:0:0:0:0:0:1:0",
            "MultiBioVersion": "0:10.0:0:0:0:0:0:0:0:58.1:0",
            **extra,
        }
        return ",".join(f"{k}={v}" for k, v in values.items())

    def register(self, body: str | None = None) -> Reply:
        """`POST /iclock/registry` with the capabilities; keeps `RegistryCode` and the
        session id the server sets as a cookie."""
        reply = self.request(
            "POST", self._path("registry"), (body or self.registry_body()).encode()
        )
        values = _key_values(reply.body)
        if reply.status == 200 and values.get("RegistryCode"):
            self.registry_code = values["RegistryCode"]
            cookie = reply.headers.get("set-cookie", "")
            for piece in cookie.split(";"):
                name, _, value = piece.strip().partition("=")
                if name == "JSESSIONID" and value:
                    self.session_id = value
        return reply

    def download_config(self) -> Reply:
        """`GET /iclock/push`: the server's configuration, with the SessionID."""
        reply = self.request("GET", self._path("push"))
        if reply.status == 200:
            self._take_config(_key_values(reply.body))
        return reply

    def connect(self) -> dict[str, str]:
        """The whole start-up: init; when not registered, registry then configuration."""
        self.init()
        if not self.config:
            self.register()
            self.download_config()
        return self.config

    def _take_config(self, values: dict[str, str]) -> None:
        self.config = values
        if values.get("SessionID"):
            self.session_id = values["SessionID"]

    # ------------------------------------------------------------------ uploads

    def upload_options(self, options: dict[str, str]) -> Reply:
        body = ",".join(f"{k}={v}" for k, v in options.items())
        return self.request("POST", self._path("cdata", table="options"), body.encode())

    def rtlog(self, punches: Iterable[Punch3]) -> Reply:
        lines = []
        for punch in punches:
            self.event_index += 1
            lines.append(punch.line(self.event_index))
        return self.request("POST", self._path("cdata", table="rtlog"), _body(lines))

    def rtstate(self, at: datetime) -> Reply:
        line = f"time={at.strftime(TIME_FORMAT)}\tsensor=01\trelay=00\talarm=0000000000000000"
        return self.request("POST", self._path("cdata", table="rtstate"), _body([line]))

    def tabledata(self, tablename: str, lines: Sequence[str]) -> Reply:
        return self.request(
            "POST",
            self._path("cdata", table="tabledata", tablename=tablename, count=len(lines)),
            _body([f"{tablename} {line}" for line in lines]),
        )

    def users(self, people: Iterable[tuple[str, str]]) -> Reply:
        lines = [
            f"uid={i}\tcardno=\tpin={pin}\tpassword=\tgroup=1\tstarttime=0\tendtime=0\t"
            f"name={name}\tprivilege=0\tdisable=0\tverify=0"
            for i, (pin, name) in enumerate(people, start=1)
        ]
        return self.tabledata("user", lines)

    def biodata(self, templates: Iterable[tuple[str, int, int, bytes]]) -> Reply:
        """(PIN, type, number, template bytes) → a BIODATA upload (base64 templates)."""
        lines = [
            f"pin={pin}\tno={no}\tindex=0\tvalid=1\tduress=0\ttype={kind}\tmajorver=58\t"
            f"minorver=1\tformat=0\ttmp={base64.b64encode(data).decode()}"
            for pin, kind, no, data in templates
        ]
        return self.tabledata("biodata", lines)

    def ping(self) -> Reply:
        return self.request("GET", self._path("ping"))

    # ------------------------------------------------------------------ commands

    def poll(self) -> list[tuple[int, str]]:
        """`GET getrequest`: the commands handed out, as (id, command) pairs."""
        reply = self.request("GET", self._path("getrequest"))
        commands = []
        for line in reply.body.splitlines():
            if line.startswith("C:"):
                _c, command_id, command = line.split(":", 2)
                commands.append((int(command_id), command))
        return commands

    def answer(self, results: Iterable[tuple[int, str, int]]) -> Reply:
        """`POST devicecmd`: `ID=…&Return=…&CMD=…` per command (3.x spells it `return`)."""
        lines = []
        for command_id, command, code in results:
            verb = " ".join(command.split(" ")[:2]) if command.startswith("DATA") else command
            lines.append(f"ID={command_id}&return={code}&CMD={verb.split(' ')[0]}")
            self.answered.append((command_id, command, code))
        return self.request("POST", self._path("devicecmd"), _body(lines))

    def run_commands(self, code: int = 0) -> list[tuple[int, str]]:
        """Poll once and answer every command with `code`, like a device that ran them."""
        commands = self.poll()
        if commands:
            self.answer((command_id, command, code) for command_id, command in commands)
        return commands


def _body(lines: Iterable[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _key_values(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.strip()
    return values


# --------------------------------------------------------------------------- the device


@dataclass
class PushTerminal3(PushTerminal):
    """`simulator.PushTerminal` speaking 3.x: the same methods (`handshake`,
    `upload_punches`, `enrol`, `poll`, `poll_until_quiet`, `apply`), so
    `ztk simulate-terminal --protocol 3` drives it like the 2.x one (`PROTOCOLS["3"]`).
    The wire is a `Push3Terminal`: registry, session token, rtlog, BIODATA."""

    pushver: str = "3.1.2"
    wire: Push3Terminal = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.wire = Push3Terminal(self.base_url, self.serial, pushver=self.pushver)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
        reply = self.wire.request(method, path, body)
        return reply.status, reply.body

    def handshake(self) -> str:
        self.options = dict(self.wire.connect())
        return "\n".join(f"{k}={v}" for k, v in self.options.items())

    def upload_punches(self, punches: Iterable[tuple[str, datetime]], *, stamp: int = 1) -> str:
        """rtlog lines: a verified fingerprint (event 0), check-in."""
        return self.wire.rtlog(Punch3(pin, at, verify=1) for pin, at in punches).body

    def enrol(self, pin: str, finger: int = 0, template: bytes | None = None) -> str:
        """Enrol a fingerprint here and upload it as BIODATA (type 1), as a device does."""
        data = template or enrolment_template(self.serial, pin, finger)
        self.templates[(pin, "BIODATA", str(finger))] = base64.b64encode(data).decode("ascii")
        return self.wire.biodata([(pin, 1, finger, data)]).body

    def apply(self, command: str) -> int:
        """3.x commands: `DATA UPDATE|DELETE user|biodata …`, `CONTROL DEVICE`, options."""
        words = command.split(" ", 3)
        if words[0] != "DATA" or len(words) < 3:
            return 0  # CONTROL DEVICE, SET OPTIONS …: acknowledged
        action, table = words[1], words[2]
        if action == "QUERY":
            return 0
        table = {"user": "USERINFO", "biodata": "BIODATA"}.get(table, table)
        values = dict(
            part.partition("=")[::2] for part in (words[3] if len(words) > 3 else "").split("\t")
        )
        if table not in ("USERINFO", "BIODATA"):
            return -629  # table name error (3.x)
        fields = "\t".join(f"{k}={v}" for k, v in values.items())
        return super().apply(f"DATA {action} {table} {fields}")


PROTOCOLS["3"] = PushTerminal3
