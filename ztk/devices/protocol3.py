"""Pure parsers and formatters for the ZKTeco push protocol 3.x ("Security PUSH").

Beside `protocol` (2.x), nothing here touches Django, the database or the clock. What 3.x
adds on the wire (docs/terminals.md, "Protocol 3.x", tells the exchange step by step):

- the registry exchange: `POST /iclock/registry` with the terminal's capabilities, answered
  `RegistryCode=…`; `GET|POST /iclock/push` answered with the configuration and a
  `SessionID`; after that the terminal sends `Cookie: token=<md5(RegistryCode + SN +
  SessionID)>` on its requests;
- uploads as `cdata?table=rtlog` (key=value punch events) and
  `cdata?table=tabledata&tablename=<t>&count=<n>` (`user`, `biodata`, `transaction`, …),
  answered `<t>=<n>`;
- commands in 3.x form (`DATA UPDATE user Pin=…`, `CONTROL DEVICE 03000000`, …).

Parsers never raise on terminal input: a bad line becomes a `protocol.LineError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from . import protocol
from .protocol import AttLogRecord, LineError

__all__ = [
    "BIO_TYPES",
    "PROTOCOL_VERSION",
    "BioTemplate",
    "TableRecord",
    "cookie_token",
    "command_text",
    "config_answer",
    "decode_time",
    "init_answer",
    "is_protocol3",
    "parse_biodata",
    "parse_registry",
    "parse_tabledata",
    "session_token",
    "transaction_record",
]

# The protocol version we implement and announce (PushProtVer): the terminal uses the lower
# of its own and ours (appendix "protocol version rules" of the Security PUSH description).
PROTOCOL_VERSION = "3.1.2"
SERVER_NAME = "ZTK"
SERVER_VERSION = "3.1.2"

# Registry bodies list ~100 capabilities; a body longer than this is cut before parsing.
MAX_REGISTRY_LENGTH = 16 * 1024
# `tabledata` tables whose lines carry base64 templates or photos.
TEMPLATE_TABLES = frozenset({"biodata", "biophoto", "userpic", "identitycard", "templatev10"})
# The largest decoded template kept (a face template is a few KB, a fingerprint < 2 KB).
MAX_TEMPLATE_BYTES = 48 * 1024

_VERSION = re.compile(r"\s*(?:Ver\s*)?([0-9]{1,3})(?:\.[0-9]{1,4}){0,3}", re.IGNORECASE)
_HEX = re.compile(r"[0-9a-fA-F]{8,64}")
_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\r\n ]*")

# Biometric types of the BIODATA ("all-in-one template") table.
BIO_TYPES: dict[int, str] = {
    0: "generic",
    1: "fingerprint",
    2: "face (near-infrared)",
    3: "voiceprint",
    4: "iris",
    5: "retina",
    6: "palm print",
    7: "finger vein",
    8: "palm vein",
    9: "face (visible light)",
    10: "palm (visible light)",
}


def is_protocol3(pushver: str | None) -> bool:
    """True when a `pushver` (or a registry `PushVersion`) announces protocol 3 or later.

    Attendance firmware announces 2.x (`2.4.1`); Security PUSH firmware 3.x (`3.1.2`).
    A registry `PushVersion` may be a firmware build (`Ver 2.0.22-20161201`): that is the
    push SDK, not the protocol, and does not count.
    """
    if not pushver:
        return False
    match = _VERSION.match(pushver)
    if match is None or pushver.strip().lower().startswith("ver"):
        return False
    return int(match.group(1)) >= 3


# --------------------------------------------------------------------------- session


def session_token(registry_code: str, serial: str, session_id: str) -> str:
    """The token a terminal sends as `Cookie: token=…`: MD5 of the three, lower-case hex."""
    return hashlib.md5(  # noqa: S324 - the protocol's own checksum, not our security
        f"{registry_code}{serial}{session_id}".encode(), usedforsecurity=False
    ).hexdigest()


def cookie_token(header: str | None) -> str | None:
    """The `token` value of a Cookie header (`token=…` or `token=…,timestamp=…`), or None.

    Anything that is not 8–64 hex digits is returned as "" so the caller treats it as a
    wrong token rather than a missing one.
    """
    if not header:
        return None
    for piece in re.split(r"[;,]", header[:1024]):
        name, sep, value = piece.partition("=")
        if sep and name.strip().lower() == "token":
            value = value.strip()
            return value.lower() if _HEX.fullmatch(value) else ""
    return None


# --------------------------------------------------------------------------- registry / push


def parse_registry(text: str) -> tuple[dict[str, str], list[LineError]]:
    """The capabilities of a `POST /iclock/registry` body: `~Key=Value` pairs split by commas.

    The same form as an options upload, so the same parser (tilde dropped, a refused pair
    left out alone).
    """
    return protocol.parse_options(text[:MAX_REGISTRY_LENGTH])


def _line(name: str, value: object) -> str:
    text = str(value)
    if any(char in text for char in "\r\n"):
        raise ValueError(f"{name} must not contain a line break")
    return f"{name}={text}"


def config_answer(
    session_id: str,
    *,
    delay: int = 10,
    error_delay: int = 30,
    trans_times: str = "00:00;14:05",
    trans_interval: int = 1,
    realtime: bool = True,
    timeout: int = 10,
    multi_bio_data: str | None = None,
) -> str:
    """The answer to `/iclock/push` (and the tail of the init answer): our configuration.

    `multi_bio_data` echoes the terminal's own `MultiBioDataSupport` (every template type
    it offers is accepted), so that it uploads BIODATA.
    """
    lines = [
        _line("ServerVersion", SERVER_VERSION),
        _line("ServerName", SERVER_NAME),
        _line("PushVersion", PROTOCOL_VERSION),
        _line("PushProtVer", PROTOCOL_VERSION),
        _line("ErrorDelay", int(error_delay)),
        _line("RequestDelay", int(delay)),
        _line("TransTimes", trans_times),
        _line("TransInterval", int(trans_interval)),
        "TransTables=User Transaction",
        _line("Realtime", 1 if realtime else 0),
        _line("SessionID", session_id),
        _line("TimeoutSec", int(timeout)),
        "BioDataFun=1",
    ]
    if multi_bio_data and re.fullmatch(r"[0-9.:]{1,200}", multi_bio_data):
        lines.append(_line("MultiBioDataSupport", multi_bio_data))
    return "\n".join(lines) + "\n"


def init_answer(registry_code: str, session_id: str, **config: object) -> str:
    """`GET cdata?options=all` of a registered 3.x terminal: `registry=ok`, code, config."""
    head = f"registry=ok\n{_line('RegistryCode', registry_code)}\n"
    return head + config_answer(session_id, **config)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- tabledata


@dataclass(frozen=True, slots=True)
class TableRecord:
    """One line of a `tabledata` upload: its table name and lower-cased key=value fields."""

    line_no: int
    table: str
    fields: dict[str, str]
    raw: str


def parse_tabledata(text: str, tablename: str) -> tuple[list[TableRecord], list[LineError]]:
    """Parse `cdata?table=tabledata&tablename=<t>` (or querydata) lines.

    A line is `<t> key=value⇥key=value…`; the leading table name is optional (querydata
    answers leave it out on some firmware) and must be the announced one when present.
    Keys are lower-cased. Template tables allow long lines; others the normal limit.
    """
    table = tablename.strip().lower()
    limit = (
        protocol.MAX_TEMPLATE_LINE_LENGTH if table in TEMPLATE_TABLES else protocol.MAX_LINE_LENGTH
    )
    records: list[TableRecord] = []
    errors: list[LineError] = []
    for line_no, line in protocol._lines(text):
        if (error := protocol._too_long(line_no, line, limit)) is not None:
            errors.append(error)
            continue
        raw = line if len(line) <= protocol.MAX_LINE_LENGTH else line[: protocol.MAX_LINE_LENGTH]
        body = line.strip()
        head, sep, rest = body.partition(" ")
        if sep and "=" not in head:
            if head.lower() != table and not (table == "biodata" and head.lower() == "biodate"):
                errors.append(
                    LineError(
                        line_no, raw, "bad_field", f"line of table {head[:32]!r}, not {table!r}"
                    )
                )
                continue
            body = rest
        fields: dict[str, str] = {}
        bad = None
        for part in body.split("\t"):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                bad = part
                break
            fields.setdefault(key.strip().lower(), value.strip())
        if bad is not None:
            errors.append(
                LineError(line_no, raw, "bad_field", f"field {bad.strip()[:40]!r} is not key=value")
            )
            continue
        if not fields:
            errors.append(LineError(line_no, raw, "too_few_fields", "the line has no fields"))
            continue
        records.append(TableRecord(line_no, table, fields, raw))
    return records, errors


# --------------------------------------------------------------------------- BIODATA


@dataclass(frozen=True, slots=True)
class BioTemplate:
    """A biometric template as a terminal uploaded it, in neutral form.

    `data` is the decoded template (bytes, never logged or shown); `kind` names the type.
    """

    line_no: int
    pin: str
    type: int
    no: int
    index: int
    valid: bool
    duress: bool
    major_ver: str
    minor_ver: str
    format: int
    data: bytes

    @property
    def kind(self) -> str:
        return BIO_TYPES.get(self.type, f"type {self.type}")

    @property
    def version(self) -> str:
        return f"{self.major_ver}.{self.minor_ver}" if self.minor_ver else self.major_ver


def parse_biodata(text: str) -> tuple[list[BioTemplate], list[LineError]]:
    """Parse BIODATA lines: 3.x `biodata pin=…⇥no=…⇥type=…⇥tmp=<base64>` (tabledata) and the
    2.x-style `BIODATA Pin=…⇥Type=…⇥Tmp=…` (keys are case-insensitive).

    PIN, type and a base64 template are required; the template is decoded and must be at
    most MAX_TEMPLATE_BYTES. A refused line's raw text never keeps the template.
    """
    normalised = re.sub(r"(?im)^\s*BIODATA(?=[ \t])", "biodata", text)
    records, errors = parse_tabledata(normalised, "biodata")
    errors = [_without_template(e) for e in errors]
    templates: list[BioTemplate] = []
    for record in records:
        try:
            templates.append(_biodata(record))
        except protocol._Reject as exc:
            errors.append(
                _without_template(LineError(record.line_no, record.raw, exc.code, exc.reason))
            )
    errors.sort(key=lambda e: e.line_no or 0)
    return templates, errors


def _without_template(error: LineError) -> LineError:
    """The error with any `tmp=` value cut out: a template is never written to a log."""
    raw = re.sub(r"(?i)(tmp=)[^\t]*", r"\1…", error.raw)
    return LineError(error.line_no, raw[:200], error.code, error.reason)


def _biodata(record: TableRecord) -> BioTemplate:
    fields = record.fields
    pin = protocol._pin(fields.get("pin", ""))
    kind = protocol._optional_int(fields.get("type", ""), "type")
    if kind is None:
        raise protocol._Reject("too_few_fields", "type= is required")
    tmp = fields.get("tmp", "")
    if not tmp:
        raise protocol._Reject("too_few_fields", "tmp= (the template) is required")
    if _BASE64.fullmatch(tmp) is None:
        raise protocol._Reject("bad_field", "tmp= is not base64")
    try:
        data = base64.b64decode(re.sub(r"\s+", "", tmp), validate=True)
    except (binascii.Error, ValueError):
        raise protocol._Reject("bad_field", "tmp= is not base64") from None
    if not data:
        raise protocol._Reject("bad_field", "the template is empty")
    if len(data) > MAX_TEMPLATE_BYTES:
        raise protocol._Reject(
            "line_too_long", f"template of {len(data)} bytes, at most {MAX_TEMPLATE_BYTES}"
        )

    def number(name: str, default: int = 0) -> int:
        value = protocol._optional_int(fields.get(name, ""), name)
        return default if value is None else value

    def version(name: str) -> str:
        value = fields.get(name, "").strip()
        return value if re.fullmatch(r"[0-9]{1,4}(?:\.[0-9]{1,4})?", value) else ""

    return BioTemplate(
        line_no=record.line_no,
        pin=pin,
        type=kind,
        no=number("no"),
        index=number("index"),
        valid=number("valid", 1) != 0,
        duress=number("duress") != 0,
        major_ver=version("majorver"),
        minor_ver=version("minorver"),
        format=number("format"),
        data=data,
    )


# --------------------------------------------------------------------------- transactions


def decode_time(value: int) -> datetime:
    """The firmware's packed local time back to a datetime (the inverse of
    `protocol.encode_device_time`; months are 31 days, years 2000 + n)."""
    seconds, value = value % 60, value // 60
    minutes, value = value % 60, value // 60
    hours, value = value % 24, value // 24
    day, value = value % 31 + 1, value // 31
    month, value = value % 12 + 1, value // 12
    return datetime(value + 2000, month, day, hours, minutes, seconds)


def transaction_record(record: TableRecord) -> AttLogRecord:
    """A `transaction` row (tabledata upload or `DATA QUERY` answer) as a punch record.

    Fields: pin, time_second (packed local time) or time, inoutstate, verified, eventtype,
    doorid, cardno. Raises protocol._Reject like the line parsers.
    """
    fields = record.fields
    pin = protocol._pin(fields.get("pin", ""))
    if "time_second" in fields:
        packed = protocol._optional_int(fields["time_second"], "time_second")
        if packed is None:
            raise protocol._Reject("bad_timestamp", "time_second is empty")
        try:
            local_time = decode_time(packed)
        except ValueError:
            raise protocol._Reject("impossible_timestamp", "time_second is no real time") from None
        if not protocol.MIN_YEAR <= local_time.year <= protocol.MAX_YEAR:
            raise protocol._Reject("impossible_timestamp", f"year {local_time.year}")
    elif "time" in fields:
        local_time = protocol._timestamp(fields["time"])
    else:
        raise protocol._Reject("too_few_fields", "time_second= or time= is required")
    state = protocol._optional_int(fields.get("inoutstate", ""), "inoutstate")
    verify = protocol.verify_code(fields.get("verified", ""))
    extra = tuple(
        f"{k}={v}"
        for k, v in fields.items()
        if k not in {"pin", "time_second", "time", "inoutstate", "verified"}
    )
    return AttLogRecord(record.line_no, record.raw, pin, local_time, state, verify, "", extra)


# --------------------------------------------------------------------------- rtlog events


# Event codes of a person's successful verification (access granted, or a "normal" event
# with a person). 20–199 are refusals and alarms; they are logged, not counted as punches.
def is_punch_event(event: int | None) -> bool:
    if event is None:
        return True
    return event < 20 or 200 <= event < 300 or 4000 <= event < 5000


def rtlog_event(record: AttLogRecord) -> int | None:
    for part in record.extra:
        key, _, value = part.partition("=")
        if key == "event":
            value = value.strip()
            return int(value) if value.isdigit() and len(value) <= 6 else None
    return None


# --------------------------------------------------------------------------- commands

# 2.x USERINFO keys and their 3.x `user` table names.
_USER_KEYS = {
    "PIN": "Pin",
    "Name": "Name",
    "Pri": "Privilege",
    "Passwd": "Password",
    "Card": "CardNo",
    "Grp": "Group",
}


def _pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for part in text.split("\t"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            pairs.append((key.strip(), value))
    return pairs


def command_text(command: str, local_now: datetime) -> str | None:
    """The 3.x line a queued command becomes when handed out, or None when 3.x has none.

    Commands are queued in their 2.x spelling (one queue, one history for both); this
    translates at hand-out time, like the clock command gets its time then.
    """
    text = command.strip()
    upper = text.upper()
    if text == protocol.SET_CLOCK:
        return f"SET OPTIONS DateTime={protocol.encode_device_time(local_now)}"
    if upper.startswith("DATA UPDATE USERINFO "):
        pairs = [
            (_USER_KEYS[key], value)
            for key, value in _pairs(text[len("DATA UPDATE USERINFO ") :])
            if key in _USER_KEYS
        ]
        if not any(key == "Pin" for key, _ in pairs):
            return None
        return "DATA UPDATE user " + "\t".join(f"{k}={v}" for k, v in pairs)
    if upper.startswith("DATA DELETE USERINFO "):
        pin = dict(_pairs(text[len("DATA DELETE USERINFO ") :])).get("PIN")
        return f"DATA DELETE user Pin={pin}" if pin else None
    if upper.startswith(("DATA UPDATE BIODATA ", "DATA DELETE BIODATA ")):
        verb = text.split(" ", 2)[1].upper()
        return f"DATA {verb} biodata {text.split(' ', 3)[3]}"
    if upper == "DATA QUERY USERINFO":
        return "DATA QUERY tablename=user,fielddesc=*,filter=*"
    if upper.startswith("DATA QUERY ATTLOG"):
        # A time range becomes a StartTime/EndTime filter (reported to work, and `filter=*`
        # to hang some firmware on a large table); without one the whole table comes back.
        # Both unverified on our hardware; duplicates are harmless either way.
        values = dict(_pairs(text[len("DATA QUERY ATTLOG") :].strip()))
        start, end = values.get("StartTime", ""), values.get("EndTime", "")
        if _TIME.fullmatch(start) and _TIME.fullmatch(end):
            return (
                "DATA QUERY tablename=transaction,fielddesc=*,"
                f"filter=StartTime={start},EndTime={end}"
            )
        return "DATA QUERY tablename=transaction,fielddesc=*,filter=*"
    if upper == "REBOOT":
        return "CONTROL DEVICE 03000000"
    if upper.startswith(("SET OPTIONS ", "GET OPTIONS ", "CONTROL DEVICE ")):
        return text
    return None  # INFO, CHECK, LOG, CLEAR LOG, CLEAR PHOTO… have no 3.x form


def result_succeeded(return_code: int) -> bool:
    """3.x: a return value of zero or more is success (2.x: only zero)."""
    return return_code >= 0


# Returned by a master controller for a command it forwards to a sub-controller: received,
# not yet run. The command stays "sent".
RESULT_FORWARDED = -5000


def answer_count(tablename: str, count: int) -> str:
    """`<tablename>=<count>`: a tabledata answer (plain `OK` makes the terminal resend)."""
    name = tablename if _TABLE_NAME.fullmatch(tablename) else "data"
    return f"{name}={int(count)}"


def config_values(registry: Mapping[str, str]) -> dict[str, str]:
    """The registry values worth echoing in our configuration answer."""
    value = registry.get("MultiBioDataSupport", "")
    return {"multi_bio_data": value} if value else {}
