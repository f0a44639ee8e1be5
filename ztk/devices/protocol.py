"""Pure parsers and formatters for the ZKTeco push ("ADMS"/iclock) and USB export formats.

Nothing here touches Django, the database or the clock, so every rule about what a
terminal may send can be tested on plain strings. Parsers never raise on input from a
terminal: a bad line becomes a `LineError` with a stable code and the rest of the batch
still parses. The wire formats are described in the project's ZKTeco design notes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ztk.core.textrule import INVALID_TEXT, text_problem

__all__ = [
    "DEFAULT_TRANS_FLAG",
    "ERROR_CODES",
    "INFO_FIELDS",
    "MAX_LINE_LENGTH",
    "MAX_OPTIONS_LENGTH",
    "MAX_PIN_LENGTH",
    "MAX_YEAR",
    "MIN_YEAR",
    "PUNCH_STATES",
    "VERIFY_MODES",
    "AttLogRecord",
    "CommandResult",
    "LineError",
    "OperLogEntry",
    "decode_body",
    "format_commands",
    "SET_CLOCK",
    "command_text",
    "encode_device_time",
    "handshake_response",
    "parse_attlog",
    "parse_attphoto",
    "parse_devicecmd",
    "parse_info",
    "parse_operlog",
    "parse_options",
    "parse_photo_name",
    "parse_rtlog",
    "parse_timestamp",
    "parse_usb_attlog",
]

# A real line is under 100 characters (FP/BIODATA templates reach a few KB, see below);
# anything longer is garbage and is rejected without being split.
MAX_LINE_LENGTH = 1024
# OPERLOG FP/BIODATA lines carry base64 templates, so they get a larger allowance.
MAX_TEMPLATE_LINE_LENGTH = 64 * 1024
# An options body is one long line; ignore anything past this many characters.
MAX_OPTIONS_LENGTH = 64 * 1024
# Terminal clocks reset to 2000-01-01 or earlier after a battery failure; such punches
# and far-future ones are rejected rather than stored.
MIN_YEAR = 2000
# Terminals allow PINs of up to 9 digits (older) or 24 characters (newer firmware).
MAX_PIN_LENGTH = 24
MAX_YEAR = 2099

PUNCH_STATES: dict[int, str] = {
    0: "check-in",
    1: "check-out",
    2: "break-out",
    3: "break-in",
    4: "overtime-in",
    5: "overtime-out",
    255: "no key pressed",  # seen once, unverified
}

VERIFY_MODES: dict[int, str] = {
    0: "password",
    1: "fingerprint",
    2: "card (older firmware)",
    3: "password",
    4: "card",
    5: "fingerprint or password",
    6: "fingerprint or card",
    7: "password or card",
    8: "PIN and fingerprint",
    9: "fingerprint and password",
    10: "fingerprint and card",
    11: "password and card",
    12: "fingerprint, password and card",
    13: "PIN, fingerprint and password",
    14: "fingerprint and card, or PIN",
    15: "face",
    16: "face and fingerprint",
    17: "face and password",
    18: "face and card",
    19: "face, fingerprint and card",
    20: "face, fingerprint and password",
    25: "palm",
}

# Stable error codes; callers may store and count them.
ERROR_CODES = frozenset(
    {
        "too_few_fields",
        "too_many_fields",  # USB export only: the column count is fixed there
        "empty_pin",
        "pin_too_long",
        "bad_timestamp",
        "impossible_timestamp",
        "bad_number",
        "line_too_long",
        "missing_tag",  # OPERLOG line that does not start with a tag such as USER
        "bad_field",  # OPERLOG key=value line with a part that has no '='
        INVALID_TEXT,  # NUL, another control character, a lone surrogate, a bidi override
    }
)

USB_COLUMNS = 6
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# ASCII digits only: `\d` would also accept other scripts' digits.
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?: +|T)([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})"
)
_SMALL_INT = re.compile(r"[0-9]{1,9}")
_TAG = re.compile(r"([A-Za-z][A-Za-z0-9_]*)[ \t](.*)", re.DOTALL)
_JPEG_SOI = b"\xff\xd8\xff"
_PHOTO_MARKERS = (b"CMD=uploadphoto", b"CMD=realupload")

INFO_FIELDS = (
    "firmware",
    "user_count",
    "fp_count",
    "log_count",
    "ip",
    # Positions below follow the PUSH SDK introduction; not confirmed on hardware.
    "fp_algorithm",
    "face_algorithm",
    "face_enroll_count",
    "face_count",
    "functions",
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class AttLogRecord:
    """One punch as the terminal reported it; times are naive terminal local time."""

    line_no: int
    raw: str
    pin: str
    local_time: datetime
    punch_state: int | None = None
    verify_mode: int | None = None
    work_code: str = ""
    extra: tuple[str, ...] = ()
    machine_no: int | None = None  # USB export only


@dataclass(frozen=True, slots=True)
class LineError:
    """A rejected line: kept with its number so an upload can be audited and retried."""

    line_no: int | None  # None: not a line (a query parameter)
    raw: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class OperLogEntry:
    """One OPERLOG line: `fields` is a dict for key=value tags and a tuple for OPLOG."""

    line_no: int
    kind: str
    fields: dict[str, str] | tuple[str, ...]
    raw: str
    local_time: datetime | None = None  # OPLOG only: its third column


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The terminal's report on one command we queued via getrequest."""

    id: int | str
    return_code: int | None
    cmd: str
    raw: str
    extra: dict[str, str] = field(default_factory=dict)


class _Reject(Exception):
    """Internal: carries a LineError code out of the per-line helpers."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# --------------------------------------------------------------------------- decoding


def decode_body(data: bytes) -> str:
    """Decode a terminal body: UTF-8 (newer firmware), gb18030 (older), latin-1 last.

    Never raises, because a body we cannot decode must still be logged and answered.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            text = data.decode("latin-1", errors="replace")
    # Some firmware pads the body with NULs.
    return text.rstrip("\x00")


def _lines(text: str) -> Iterable[tuple[int, str]]:
    """Yield (1-based line number, line) for non-blank lines; CRLF, LF and CR all end a line."""
    for index, line in enumerate(_LINE_BREAK.split(text), start=1):
        if line.strip():
            yield index, line


def _too_long(line_no: int, line: str, limit: int = MAX_LINE_LENGTH) -> LineError | None:
    """The first check of every line: too long, or a character the shared text rule forbids.

    Tabs separate fields, so they are allowed; anything else `ztk.core.text` forbids (NUL
    above all, which PostgreSQL cannot store) refuses the line alone.
    """
    if len(line) > limit:
        return LineError(
            line_no,
            line[:limit],
            "line_too_long",
            f"line has {len(line)} characters, the limit is {limit}",
        )
    return forbidden_text(line_no, line)


def forbidden_text(
    line_no: int | None, text: str, what: str = "line", *, multiline: bool = True
) -> LineError | None:
    """A LineError `invalid_text` when `text` has a character `ztk.core.text` forbids.

    `multiline` lets tabs through (they separate the fields of a line); single values
    (an option, an INFO field, a query parameter) allow none.
    """
    problem = text_problem(text, multiline=multiline)
    if problem is None:
        return None
    position, code_point = problem
    return LineError(
        line_no,
        text[:MAX_LINE_LENGTH],
        INVALID_TEXT,
        f"the {what} contains a character that is not allowed ({code_point} at position "
        f"{position + 1})",
    )


# --------------------------------------------------------------------------- fields


def parse_timestamp(value: str) -> datetime:
    """Parse `YYYY-MM-DD HH:MM:SS` as naive terminal local time (shared by CSV import).

    Raises ValueError(code, reason) with code 'bad_timestamp' or 'impossible_timestamp'.
    """
    try:
        return _timestamp(value)
    except _Reject as exc:
        raise ValueError(exc.code, exc.reason) from None


def _timestamp(value: str) -> datetime:
    value = value.strip()
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise _Reject("bad_timestamp", f"time {value[:40]!r} is not YYYY-MM-DD HH:MM:SS")
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _Reject("impossible_timestamp", f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise _Reject("impossible_timestamp", f"time {value!r} does not exist: {exc}") from None


def _optional_int(value: str, name: str) -> int | None:
    """Empty means 'not sent'; anything else must be a small non-negative integer."""
    value = value.strip()
    if not value:
        return None
    if _SMALL_INT.fullmatch(value) is None:
        raise _Reject("bad_number", f"{name} {value[:40]!r} is not a whole number")
    return int(value)


def _pin(value: str) -> str:
    pin = value.strip()
    if not pin:
        raise _Reject("empty_pin", "the PIN is empty")
    if len(pin) > MAX_PIN_LENGTH:
        raise _Reject("pin_too_long", f"PIN has {len(pin)} characters, at most {MAX_PIN_LENGTH}")
    return pin


# --------------------------------------------------------------------------- ATTLOG


def parse_attlog(text: str) -> tuple[list[AttLogRecord], list[LineError]]:
    """Parse a push `table=ATTLOG` body: PIN, time, state, verify, work code, reserved…

    Only PIN and time are required; unknown codes (255 included) are kept as integers
    because firmware differs and the engine must not rely on them.
    """
    records: list[AttLogRecord] = []
    errors: list[LineError] = []
    for line_no, line in _lines(text):
        if (error := _too_long(line_no, line)) is not None:
            errors.append(error)
            continue
        try:
            records.append(_attlog_line(line_no, line))
        except _Reject as exc:
            errors.append(LineError(line_no, line, exc.code, exc.reason))
    return records, errors


def _attlog_line(line_no: int, line: str) -> AttLogRecord:
    parts = line.split("\t")
    if len(parts) < 2:
        raise _Reject("too_few_fields", f"{len(parts)} field(s); PIN and time are required")
    pin = _pin(parts[0])
    local_time = _timestamp(parts[1])
    state = _optional_int(parts[2], "punch state") if len(parts) > 2 else None
    verify = _optional_int(parts[3], "verify mode") if len(parts) > 3 else None
    work_code = parts[4].strip() if len(parts) > 4 else ""
    extra = tuple(part.strip() for part in parts[5:])
    return AttLogRecord(line_no, line, pin, local_time, state, verify, work_code, extra)


def parse_usb_attlog(text: str) -> tuple[list[AttLogRecord], list[LineError]]:
    """Parse a USB `<DeviceID>_attlog.dat`: PIN, time, machine no, state, verify, work code.

    The column order differs from ATTLOG (column 3 is the machine number), so the column
    count is checked exactly: a push body fed here by mistake is rejected, not misread.
    """
    records: list[AttLogRecord] = []
    errors: list[LineError] = []
    for line_no, line in _lines(text):
        if (error := _too_long(line_no, line)) is not None:
            errors.append(error)
            continue
        try:
            records.append(_usb_line(line_no, line))
        except _Reject as exc:
            errors.append(LineError(line_no, line, exc.code, exc.reason))
    return records, errors


def _usb_line(line_no: int, line: str) -> AttLogRecord:
    parts = line.split("\t")
    if len(parts) < USB_COLUMNS:
        raise _Reject("too_few_fields", f"{len(parts)} column(s), expected {USB_COLUMNS}")
    if len(parts) > USB_COLUMNS:
        raise _Reject("too_many_fields", f"{len(parts)} columns, expected {USB_COLUMNS}")
    pin = _pin(parts[0])
    local_time = _timestamp(parts[1])
    machine_no = _optional_int(parts[2], "machine number")
    state = _optional_int(parts[3], "punch state")
    verify = _optional_int(parts[4], "verify mode")
    return AttLogRecord(
        line_no,
        line,
        pin,
        local_time,
        state,
        verify,
        parts[5].strip(),
        (),
        machine_no,
    )


# --------------------------------------------------------------------------- rtlog (3.x)


def parse_rtlog(text: str) -> tuple[list[AttLogRecord], list[LineError]]:
    """Best-effort parse of protocol 3.x `table=rtlog` lines (`time=…⇥pin=…⇥…`).

    Keys we do not map (cardno, event, eventaddr, …) are kept in `extra` as `key=value`
    so the caller can tell door events from punches.
    """
    records: list[AttLogRecord] = []
    errors: list[LineError] = []
    for line_no, line in _lines(text):
        if (error := _too_long(line_no, line)) is not None:
            errors.append(error)
            continue
        try:
            records.append(_rtlog_line(line_no, line))
        except _Reject as exc:
            errors.append(LineError(line_no, line, exc.code, exc.reason))
    return records, errors


def _rtlog_line(line_no: int, line: str) -> AttLogRecord:
    values: dict[str, str] = {}
    extra: list[str] = []
    for part in line.split("\t"):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if sep and key and key not in values:
            values[key] = value.strip()
            if key not in {"time", "pin", "inoutstatus", "verifytype", "workcode"}:
                extra.append(f"{key}={values[key]}")
        elif part.strip():
            extra.append(part.strip())
    if "time" not in values or "pin" not in values:
        raise _Reject("too_few_fields", "time= and pin= are required")
    pin = _pin(values["pin"])
    local_time = _timestamp(values["time"])
    state = _optional_int(values.get("inoutstatus", ""), "inoutstatus")
    verify = _optional_int(values.get("verifytype", ""), "verifytype")
    return AttLogRecord(
        line_no, line, pin, local_time, state, verify, values.get("workcode", ""), tuple(extra)
    )


# --------------------------------------------------------------------------- OPERLOG

# Tags whose payload is tab-separated key=value pairs.
_KEY_VALUE_TAGS = frozenset({"USER", "FP", "FACE", "BIODATA", "USERPIC", "BIOPHOTO", "WORKCODE"})
# Tags whose lines legitimately carry long base64 templates or photos.
TEMPLATE_TAGS = _TEMPLATE_TAGS = frozenset({"FP", "FACE", "BIODATA", "USERPIC", "BIOPHOTO"})
_OPLOG_MIN_FIELDS = 3


def parse_operlog(text: str) -> tuple[list[OperLogEntry], list[LineError]]:
    """Parse a push `table=OPERLOG` body into tagged entries.

    `OPLOG` lines stay positional (type, who, time, v1, v2, v3, reserved) and get their
    time checked; `USER`, `FP`, `BIODATA`, … become dicts; unknown tags are kept as
    dicts when every part is key=value, otherwise as tuples.
    """
    entries: list[OperLogEntry] = []
    errors: list[LineError] = []
    for line_no, line in _lines(text):
        if (error := _too_long(line_no, line, MAX_TEMPLATE_LINE_LENGTH)) is not None:
            errors.append(error)
            continue
        try:
            entries.append(_operlog_line(line_no, line))
        except _Reject as exc:
            raw = line if len(line) <= MAX_LINE_LENGTH else line[:MAX_LINE_LENGTH]
            errors.append(LineError(line_no, raw, exc.code, exc.reason))
    return entries, errors


def _operlog_line(line_no: int, line: str) -> OperLogEntry:
    match = _TAG.fullmatch(line.strip())
    if match is None:
        raise _Reject("missing_tag", "line does not start with a tag such as OPLOG or USER")
    kind = match.group(1).upper()
    if kind not in _TEMPLATE_TAGS and len(line) > MAX_LINE_LENGTH:
        raise _Reject(
            "line_too_long", f"line has {len(line)} characters, the limit is {MAX_LINE_LENGTH}"
        )
    parts = match.group(2).split("\t")
    if kind == "OPLOG":
        values = tuple(part.strip() for part in parts)
        if len(values) < _OPLOG_MIN_FIELDS:
            raise _Reject("too_few_fields", f"OPLOG has {len(values)} field(s), expected 7")
        return OperLogEntry(line_no, kind, values, line, _timestamp(values[2]))
    pairs = [part.partition("=") for part in parts if part.strip()]
    if not pairs:
        raise _Reject("too_few_fields", f"{kind} line has no fields")
    if all(sep for _, sep, _ in pairs):
        fields_ = {key.strip(): value for key, _, value in pairs}
        if kind in {"USER", "FP"}:
            _pin(fields_.get("PIN", ""))
        return OperLogEntry(line_no, kind, fields_, line)
    if kind in _KEY_VALUE_TAGS:
        bad = next(key for key, sep, _ in pairs if not sep)
        raise _Reject("bad_field", f"{kind} field {bad.strip()[:40]!r} is not key=value")
    return OperLogEntry(line_no, kind, tuple(part.strip() for part in parts), line)


# --------------------------------------------------------------------------- options / INFO


def parse_options(text: str) -> tuple[dict[str, str], list[LineError]]:
    """Parse a `table=options` body: `~Key=Value` pairs split by commas and/or newlines.

    The leading `~` (read-only marker) is dropped so lookups are uniform. A piece without
    `=` is taken as the continuation of the previous value, which had a comma in it. A
    pair with a forbidden character is refused alone (numbered by its line).
    """
    options: dict[str, str] = {}
    errors: list[LineError] = []
    last_key: str | None = None
    for line_no, line in enumerate(_LINE_BREAK.split(text[:MAX_OPTIONS_LENGTH]), start=1):
        for piece in line.split(","):
            if (error := forbidden_text(line_no, piece, "option", multiline=False)) is not None:
                errors.append(error)
                last_key = None  # what follows cannot continue a refused value
                continue
            key, sep, value = piece.partition("=")
            key = key.strip().lstrip("~").strip()
            if sep and key:
                options[key] = value.strip()
                last_key = key
            elif piece.strip() and last_key is not None and not sep:
                options[last_key] = f"{options[last_key]},{piece.strip()}"
        last_key = None  # a new line never continues the previous one
    return options, errors


def parse_info(info: str) -> tuple[dict[str, str], list[LineError]]:
    """Name the positions of the getrequest `INFO` parameter.

    Values stay text (counts are digits on every terminal seen); positions past the known
    ones are kept as `field_<index>` so nothing a new firmware adds is lost. A field with
    a forbidden character is refused alone; the error's line number is its position.
    """
    result: dict[str, str] = {}
    errors: list[LineError] = []
    for index, value in enumerate(info[:MAX_LINE_LENGTH].split(",")):
        name = INFO_FIELDS[index] if index < len(INFO_FIELDS) else f"field_{index}"
        if (error := forbidden_text(index + 1, value, f"INFO {name}", multiline=False)) is not None:
            errors.append(error)
            continue
        result[name] = value.strip()
    if result == {"firmware": ""}:
        return {}, errors
    return result, errors


# --------------------------------------------------------------------------- commands


def parse_devicecmd(text: str) -> tuple[list[CommandResult], list[LineError]]:
    """Parse a `devicecmd` body: one `ID=…&Return=…&CMD=…` line per command result.

    Key=value lines that follow a result (the INFO command's answer) go into that
    result's `extra`; orphan lines before any ID get a result with id "" so none is lost.
    A line with a forbidden character is refused alone.
    """
    results: list[CommandResult] = []
    errors: list[LineError] = []
    for line_no, line in _lines(text):
        line = line[:MAX_LINE_LENGTH]
        if (error := forbidden_text(line_no, line)) is not None:
            errors.append(error)
            continue
        stripped = line.strip()
        if stripped.upper().startswith("ID="):
            values: dict[str, str] = {}
            for part in stripped.split("&"):
                key, _, value = part.partition("=")
                values.setdefault(key.strip(), value.strip())
            raw_id = _pop_any_case(values, "ID")
            results.append(
                CommandResult(
                    id=int(raw_id) if _SMALL_INT.fullmatch(raw_id) else raw_id,
                    return_code=_signed_int(_pop_any_case(values, "Return")),
                    cmd=_pop_any_case(values, "CMD"),
                    raw=line,
                    extra=values,
                )
            )
            continue
        key, sep, value = stripped.partition("=")
        key = key.lstrip("~").strip()
        if not results:
            results.append(CommandResult(id="", return_code=None, cmd="", raw=line, extra={}))
        results[-1].extra[key if sep else stripped] = value.strip() if sep else ""
    return results, errors


def _pop_any_case(values: dict[str, str], name: str) -> str:
    for key in list(values):
        if key.upper() == name.upper():
            return values.pop(key)
    return ""


def _signed_int(value: str) -> int | None:
    value = value.strip()
    if re.fullmatch(r"[+-]?[0-9]{1,9}", value) is None:
        return None
    return int(value)


# Queued as this text; the time is filled in when handed out, so a command that waited
# (or is re-sent) still sets the right time. The `SET OPTIONS DateTime=<encoded>` form
# comes from the push SDK description and is unverified on hardware (docs/terminals.md).
SET_CLOCK = "SET OPTIONS DateTime"


def encode_device_time(moment: datetime) -> int:
    """The firmware's packed local time: ((yy*12 + month-1)*31 + day-1) days of seconds."""
    days = ((moment.year % 100) * 12 + moment.month - 1) * 31 + moment.day - 1
    return days * 86400 + moment.hour * 3600 + moment.minute * 60 + moment.second


def command_text(command: str, local_now: datetime) -> str:
    """The line a queued command becomes when handed out (SET_CLOCK gets the time)."""
    if command == SET_CLOCK:
        return f"{SET_CLOCK}={encode_device_time(local_now)}"
    return command


def format_commands(commands: Iterable[tuple[int | str, str]]) -> str:
    """Render queued commands as `C:<id>:<command>` lines for a getrequest answer.

    Raises ValueError for a line break in a command or a ':' in an id, because either
    would let one queued command smuggle another one onto the terminal.
    """
    lines = []
    for command_id, command in commands:
        text_id = str(command_id)
        if not text_id or any(char in text_id for char in ":\r\n\t "):
            raise ValueError(f"invalid command id {text_id!r}")
        if not command or "\n" in command or "\r" in command:
            raise ValueError(f"invalid command {command!r}")
        lines.append(f"C:{text_id}:{command}\n")
    return "".join(lines) if lines else "OK"


# --------------------------------------------------------------------------- handshake

DEFAULT_TRANS_FLAG = "TransData AttLog\tOpLog\tAttPhoto\tEnrollUser\tChgUser"


def _format_timezone(hours: float) -> str:
    if not math.isfinite(hours) or not -12 <= hours <= 14:
        raise ValueError(f"time zone {hours!r} is not between -12 and +14 hours")
    rounded = round(float(hours), 2)
    if rounded.is_integer():
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0")


def _header_value(name: str, value: str) -> str:
    if any(char in value for char in "\r\n"):
        raise ValueError(f"{name} must not contain a line break")
    return value


def handshake_response(
    serial: str,
    stamps: Mapping[str, str],
    *,
    pushver: str | None,
    timezone_hours: float,
    delay: int = 10,
    error_delay: int = 30,
    trans_interval: int = 1,
    realtime: bool = True,
    trans_times: str = "00:00;14:05",
    trans_flag: str = DEFAULT_TRANS_FLAG,
    server_version: str = "2.4.1",
) -> str:
    """Build the option block for `GET /iclock/cdata?options=all`.

    `stamps` maps table names (ATTLOG, OPERLOG, ATTPHOTO) to the opaque stamp last stored
    for this terminal; missing or empty means "0" (send everything). Terminals that send
    no `pushver` expect the older `Stamp`/`OpStamp`/`PhotoStamp` names.
    """
    if pushver is None:
        names = ("Stamp", "OpStamp", "PhotoStamp")
    else:
        names = ("ATTLOGStamp", "OPERLOGStamp", "ATTPHOTOStamp")
    lines = [f"GET OPTION FROM: {_header_value('serial', serial)}"]
    for name, table in zip(names, ("ATTLOG", "OPERLOG", "ATTPHOTO"), strict=True):
        lines.append(f"{name}={_header_value(name, stamps.get(table) or '0')}")
    lines += [
        f"ErrorDelay={int(error_delay)}",
        f"Delay={int(delay)}",
        f"TransTimes={_header_value('trans_times', trans_times)}",
        f"TransInterval={int(trans_interval)}",
        f"TransFlag={_header_value('trans_flag', trans_flag)}",
        f"TimeZone={_format_timezone(timezone_hours)}",
        f"Realtime={1 if realtime else 0}",
        "Encrypt=0",
        f"ServerVer={_header_value('server_version', server_version)}",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- ATTPHOTO


def parse_attphoto(data: bytes) -> tuple[dict[str, str], bytes, list[LineError]]:
    """Split an ATTPHOTO upload into its key=value header, the JPEG bytes and refusals.

    The header runs up to `CMD=uploadphoto` (or `CMD=realupload`); firmware separates
    it from the image by NUL, LF or `picture=`, so the image starts at the JPEG marker
    when one is near. Returns ({}, b"") pieces rather than raising on odd bodies; a
    header piece with a forbidden character is left out and comes back as a LineError.
    """
    cut = -1
    marker = b""
    for candidate in _PHOTO_MARKERS:
        position = data.find(candidate)
        if position != -1 and (cut == -1 or position < cut):
            cut, marker = position, candidate
    if cut == -1:
        soi = data.find(_JPEG_SOI)
        if soi == -1:
            header, errors = _photo_header(data)
            return header, b"", errors
        header, errors = _photo_header(data[:soi])
        return header, data[soi:], errors
    header, errors = _photo_header(data[: cut + len(marker)])
    rest = data[cut + len(marker) :]
    soi = rest.find(_JPEG_SOI, 0, 64)
    if soi != -1:
        return header, rest[soi:], errors
    return header, rest.lstrip(b"\x00\r\n\t "), errors


def _photo_header(data: bytes) -> tuple[dict[str, str], list[LineError]]:
    header: dict[str, str] = {}
    errors: list[LineError] = []
    text = decode_body(data[: MAX_LINE_LENGTH * 4])
    for index, piece in enumerate(re.split(r"[\r\n\t\x00]+", text), start=1):
        if (error := forbidden_text(index, piece, "photo header", multiline=False)) is not None:
            errors.append(error)
            continue
        key, sep, value = piece.partition("=")
        if sep and key.strip():
            header[key.strip()] = value.strip()
    return header, errors


_PHOTO_NAME = re.compile(rf"([0-9]{{14}})-([^/\\]{{1,{MAX_PIN_LENGTH}}})\.jpe?g", re.IGNORECASE)


def parse_photo_name(name: str) -> tuple[str, datetime] | None:
    """(PIN, terminal local time) from a punch photo's name `YYYYMMDDHHMMSS-PIN.jpg`.

    The name (sent as the header's `PIN=`) is how a photo finds its punch; None when it
    does not follow that form (enrolment photos, other firmware) or the time is impossible.
    """
    match = _PHOTO_NAME.fullmatch(name.strip())
    if match is None:
        return None
    digits, pin = match.groups()
    try:
        moment = _timestamp(
            f"{digits[:4]}-{digits[4:6]}-{digits[6:8]} {digits[8:10]}:{digits[10:12]}:{digits[12:]}"
        )
        return _pin(pin), moment
    except _Reject:
        return None
