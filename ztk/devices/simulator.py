"""A simulated ZKTeco terminal speaking the push protocol over real HTTP.

For people evaluating ZTK Attendance without hardware (`ztk simulate-terminal`) and for
the tests: it handshakes, uploads punches and templates, polls for commands and answers
them like a device, keeping the users and templates it was sent. Only the standard
library is used (`http.client`), so it exercises exactly what a terminal would.

Protocol 2.x is `PushTerminal`; a 3.x terminal (registry/push exchange, BIODATA) can
subclass it and override `handshake`, the upload paths and `apply` (`PROTOCOLS`).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, urlsplit


@dataclass
class Received:
    """One command the terminal was handed, and what it answered."""

    id: str
    command: str
    return_code: int


@dataclass
class PushTerminal:
    """A 2.x push terminal (`pushver=2.4.1`)."""

    base_url: str
    serial: str
    pushver: str = "2.4.1"
    timeout: float = 30.0
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    # (PIN, table, FID) → template text as received (FINGERTMP, FACE, BIODATA)
    templates: dict[tuple[str, str, str], str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ HTTP

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
        parts = urlsplit(self.base_url)
        conn_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_class(parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout)
        headers = {"User-Agent": "iClock Proxy/1.09"}
        if body is not None:
            headers["Content-Type"] = "text/plain"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        return response.status, data.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ protocol

    def handshake(self) -> str:
        status, text = self.request(
            "GET", f"/iclock/cdata?SN={self.serial}&options=all&pushver={self.pushver}&language=83"
        )
        for line in text.splitlines()[1:]:
            key, sep, value = line.partition("=")
            if sep:
                self.options[key.strip()] = value.strip()
        return text

    def upload(self, table: str, body: str, **params: str) -> str:
        extra = "".join(f"&{k}={quote(str(v), safe='')}" for k, v in params.items())
        _status, text = self.request(
            "POST", f"/iclock/cdata?SN={self.serial}&table={table}{extra}", body.encode("utf-8")
        )
        return text

    def upload_punches(self, punches: Iterable[tuple[str, datetime]], *, stamp: int = 1) -> str:
        """ATTLOG lines: PIN, local time, check-in state, fingerprint verify."""
        body = "".join(f"{pin}\t{at:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n" for pin, at in punches)
        return self.upload("ATTLOG", body, Stamp=str(stamp))

    def enrol(self, pin: str, finger: int = 0, template: bytes | None = None) -> str:
        """Enrol a fingerprint here and upload it (an OPERLOG `FP` line), as a device does."""
        data = template or enrolment_template(self.serial, pin, finger)
        tmp = base64.b64encode(data).decode("ascii")
        self.templates[(pin, "FINGERTMP", str(finger))] = tmp
        line = f"FP PIN={pin}\tFID={finger}\tSize={len(tmp)}\tValid=1\tTMP={tmp}\n"
        return self.upload("OPERLOG", line, OpStamp="1")

    def poll(self) -> list[Received]:
        """One getrequest: apply every command handed out and post the results."""
        _status, text = self.request("GET", f"/iclock/getrequest?SN={self.serial}")
        handed: list[Received] = []
        for line in text.splitlines():
            if not line.startswith("C:"):
                continue
            _c, command_id, command = line.split(":", 2)
            handed.append(Received(command_id, command, self.apply(command)))
        if handed:
            body = "".join(
                f"ID={r.id}&Return={r.return_code}&CMD={r.command.split(' ', 1)[0]}\n"
                for r in handed
            )
            self.request("POST", f"/iclock/devicecmd?SN={self.serial}", body.encode("utf-8"))
            self.received.extend(handed)
        return handed

    def poll_until_quiet(self, limit: int = 20) -> list[Received]:
        got: list[Received] = []
        for _ in range(limit):
            batch = self.poll()
            if not batch:
                break
            got += batch
        return got

    # ------------------------------------------------------------------ the device

    def apply(self, command: str) -> int:
        """Carry out one command like the firmware; the return code (0 ok, -1002 syntax)."""
        words = command.split(" ", 3)
        if words[0] != "DATA" or len(words) < 3:
            return 0  # INFO, CHECK, REBOOT, SET OPTIONS …: acknowledged
        action, table = words[1], words[2]
        values = dict(
            part.partition("=")[::2] for part in (words[3] if len(words) > 3 else "").split("\t")
        )
        pin = values.get("PIN") or values.get("Pin") or ""
        if action == "UPDATE" and table == "USERINFO":
            if not pin:
                return -1002
            self.users[pin] = values
        elif action == "DELETE" and table == "USERINFO":
            self.users.pop(pin, None)
            for key in [k for k in self.templates if k[0] == pin]:
                del self.templates[key]
        elif action == "UPDATE" and table in ("FINGERTMP", "FACE", "BIODATA"):
            tmp = values.get("TMP") or values.get("Tmp") or ""
            if not pin or not tmp:
                return -1002
            index = values.get("FID") or values.get("No") or "0"
            self.templates[(pin, table, index)] = tmp
        elif action == "DELETE" and table in ("FINGERTMP", "FACE", "BIODATA"):
            wanted = values.get("FID") or values.get("No")
            for key in [k for k in self.templates if k[0] == pin and k[1] == table]:
                if wanted is None or key[2] == wanted:
                    del self.templates[key]
        elif action == "QUERY":
            return 0
        else:
            return -1004
        return 0

    def commands(self, prefix: str = "") -> list[str]:
        return [r.command for r in self.received if r.command.startswith(prefix)]


def enrolment_template(serial: str, pin: str, finger: int) -> bytes:
    """Stand-in template bytes (a real one is ~1.5 KB of vendor data), unique per enrolment."""
    seed = f"{serial}:{pin}:{finger}".encode()
    return b"SIMTMPL" + b"".join(hashlib.sha256(seed + bytes([i])).digest() for i in range(40))


PROTOCOLS: dict[str, type[PushTerminal]] = {"2": PushTerminal}
