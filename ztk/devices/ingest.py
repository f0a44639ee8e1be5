"""What terminals send us, turned into punches, held punches and log lines.

Called by the iclock views (push), the pull job and the USB import. The terminal is the
"actor" here: nobody logs in, so these functions check the terminal's status instead of a
permission. Every punch goes through `punches.services.record_punches`; a punch that
cannot count yet is held (`HeldPunch`), a line that cannot be read is logged
(`DeviceLog`) with its number and reason — nothing a terminal sends is silently lost.

Heartbeat fields (last seen, IP, counts, stamps) are telemetry and are not audited; new
terminals, held punches, punch batches and command results are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from ztk.audit.services import record
from ztk.core.text import escape_forbidden
from ztk.punches.models import Punch, PunchSource
from ztk.punches.services import (
    EARLIEST_VALID,
    FUTURE_TOLERANCE,
    REFUSAL_MESSAGES,
    PunchInput,
    dedup_key_for,
    record_punches,
)

from . import admission, biometrics, conf, photos, protocol
from .models import (
    LOCAL_TIME_FORMAT,
    SERIAL_PATTERN,
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceLog,
    DevicePhoto,
    DeviceStatus,
    HeldPunch,
    HoldReason,
    LogKind,
    TerminalPin,
)

log = logging.getLogger(__name__)

SMALLINT_MAX = 32767
_SERIAL = re.compile(SERIAL_PATTERN)
_STAMP = re.compile(r"^[0-9A-Za-z._:-]{0,64}$")
# A disabled terminal retries every ErrorDelay seconds; one log line per this many seconds.
REFUSAL_LOG_INTERVAL_SECONDS = 600

# Reasons of our own (the protocol module has the parse reasons).
REASONS = {
    "future_time": "the time is more than 5 minutes in the future (terminal clock wrong?)",
    "impossible_timestamp": "the time is before 2000 or after 2100",
    "no_user": "PIN 0 is a door or system event, not a person's punch",
    "device_disabled": "the terminal is disabled: its data is refused until it is re-enabled",
    "bad_stamp": "the stamp is not a short token; it was not stored",
    "address_not_allowed": "request from {ip}, outside the allow-list; nothing was stored",
}


def valid_serial(serial: str | None) -> bool:
    return serial is not None and _SERIAL.fullmatch(serial) is not None


def clean_stamp(value: str | None) -> str | None:
    """The stamp to store, or None when absent or unusable (it is echoed in our answers)."""
    if value is None or value == "":
        return None
    value = value.strip()
    return value if _STAMP.fullmatch(value) else None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class LineRefusal:
    line_no: int | None
    code: str
    message: str
    raw: str = ""


@dataclass
class IngestOutcome:
    new: int = 0
    duplicate: int = 0
    held: int = 0
    refused: list[LineRefusal] = field(default_factory=list)
    punch_ids: list[int] = field(default_factory=list)
    # What became of each record, by position: new, duplicate, held or refused.
    statuses: list[str] = field(default_factory=list)
    # The reason each held record waits (HoldReason), by position.
    held_reasons: dict[int, str] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        """What the terminal may forget: stored, already stored, or held for a decision."""
        return self.new + self.duplicate + self.held

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "duplicate": self.duplicate,
            "held": self.held,
            "refused": len(self.refused),
        }


# --------------------------------------------------------------------------- terminals


def device_contact(
    serial: str,
    *,
    ip: str | None = None,
    push_version: str | None = None,
    now: datetime | None = None,
) -> Device:
    """The terminal behind a request; a serial never seen before becomes a pending terminal.

    A known terminal is first checked against its allow-lists: from outside them the
    request is refused (`admission.RefusedError`) and logged, and nothing about the
    terminal changes. A new serial is registered within the limits of `admission`
    (INFO and CHECK queued; approved at once with DEVICE_AUTO_APPROVE).
    """
    now = now or timezone.now()
    device = (
        Device.objects.select_related("attendance_group__terminal_allow_list")
        .filter(serial=serial)
        .first()
    )
    if device is None:
        device = admission.register(serial, ip=ip, push_version=push_version, now=now)
    elif not admission.address_permitted(device, ip):
        log_once(
            device,
            LogKind.REFUSED,
            "address_not_allowed",
            REASONS["address_not_allowed"].format(ip=ip or "?"),
            now=now,
        )
        raise admission.RefusedError("address_not_allowed", device)
    changes: dict[str, Any] = seen(device, now)
    if ip and device.ip != ip:
        changes["ip"] = ip[:64]
    if push_version and device.push_version != push_version[:20]:
        changes["push_version"] = push_version[:20]
    update_device(device, **changes)
    return device


# Terminals poll every few seconds; "last seen" need not cost a write each time.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)


def seen(device: Device, now: datetime) -> dict[str, Any]:
    """{"last_seen": now} when the stored value is older than the resolution, else {}."""
    if device.last_seen is None or now - device.last_seen >= LAST_SEEN_RESOLUTION:
        return {"last_seen": now}
    return {}


def update_device(device: Device, **changes: Any) -> None:
    """Write only what changed, in one UPDATE, and keep the instance in step."""
    changes = {k: v for k, v in changes.items() if getattr(device, k) != v}
    if not changes:
        return
    Device.objects.filter(pk=device.pk).update(**changes)
    for key, value in changes.items():
        setattr(device, key, value)


def log_entries(
    device: Device | None,
    entries: Iterable[tuple[str, str, str, str, int | None, str]],
    *,
    serial: str = "",
) -> int:
    """Bulk-write (kind, table, code, message, line_no, raw) log lines.

    The log keeps what was refused, so its text is written with every character the shared
    text rule forbids shown as an escape (`\\x00`): readable, and storable on PostgreSQL.
    """
    rows = [
        DeviceLog(
            device=device,
            device_sn=(device.serial if device else serial)[:64],
            kind=kind,
            table=escape_forbidden(table)[:16],
            code=code[:40],
            message=escape_forbidden(str(message))[:500],
            line_no=line_no,
            raw=escape_forbidden(raw[: protocol.MAX_LINE_LENGTH * 4], multiline=True),
        )
        for kind, table, code, message, line_no, raw in entries
    ]
    if rows:
        DeviceLog.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def log_once(
    device: Device,
    kind: str,
    code: str,
    message: str,
    *,
    table: str = "",
    now: datetime | None = None,
) -> bool:
    """Log a refusal the terminal will repeat (it retries every few seconds) once per interval."""
    now = now or timezone.now()
    recent = DeviceLog.objects.filter(
        device=device,
        kind=kind,
        code=code,
        at__gte=now - timedelta(seconds=REFUSAL_LOG_INTERVAL_SECONDS),
    ).exists()
    if not recent:
        log_entries(device, [(kind, table, code, message, None, "")])
    return not recent


def log_refusal(device: Device, *, table: str, now: datetime | None = None) -> None:
    """A disabled terminal's upload: logged, at most once per interval (it retries often)."""
    log_once(
        device,
        LogKind.REFUSED,
        "device_disabled",
        REASONS["device_disabled"],
        table=table,
        now=now,
    )


# --------------------------------------------------------------------------- punches


def _small(value: int | None) -> int | None:
    """Codes beyond a small integer cannot be stored; the raw line still has them."""
    return value if value is not None and 0 <= value <= SMALLINT_MAX else None


def pin_map(device: Device, pins: Iterable[str]) -> dict[str, int]:
    """PIN → employee id from the lasting mappings: the terminal's own over its group's."""
    wanted = set(pins)
    if not wanted:
        return {}
    scope = Q(device=device)
    if device.attendance_group_id is not None:
        scope |= Q(group_id=device.attendance_group_id)
    found: dict[str, int] = {}
    rows = TerminalPin.objects.filter(scope, pin__in=wanted).values_list(
        "pin", "employee_id", "device_id"
    )
    for pin, employee_id, _device_id in sorted(rows, key=lambda row: row[2] is not None):
        found[pin] = employee_id  # terminal rows sort last and win
    return found


def _input_for(
    device: Device, rec: protocol.AttLogRecord, zone, pins: dict[str, int] | None = None
) -> PunchInput:
    mapped = (pins or {}).get(rec.pin)
    return PunchInput(
        at=rec.local_time.replace(tzinfo=zone),
        source=PunchSource.DEVICE,
        employee_id=mapped,
        employee_no=None if mapped is not None else rec.pin,
        device_sn=device.serial,
        pin=rec.pin,
        verify_mode=_small(rec.verify_mode),
        punch_state=_small(rec.punch_state),
        raw=rec.raw[:1024],
    )


def _held_row(
    device: Device, rec: protocol.AttLogRecord, at: datetime, reason: str, channel: str
) -> HeldPunch:
    return HeldPunch(
        device=device,
        device_sn=device.serial,
        pin=rec.pin,
        local_time=rec.local_time.strftime(LOCAL_TIME_FORMAT),
        at=at,
        punch_state=_small(rec.punch_state),
        verify_mode=_small(rec.verify_mode),
        work_code=rec.work_code[:24],
        raw=rec.raw[:1024],
        channel=channel,
        reason=reason,
    )


def hold(rows: Sequence[HeldPunch]) -> int:
    """Store held punches once: a re-sent batch finds them already there (not an error)."""
    if rows:
        HeldPunch.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(rows)


def ingest_records(
    device: Device,
    records: Sequence[protocol.AttLogRecord],
    *,
    channel: str,
    now: datetime | None = None,
    actor: Any = None,
    recompute: bool = True,
    audit_extra: dict[str, Any] | None = None,
) -> IngestOutcome:
    """Count, hold or refuse terminal records; the caller owns the transaction.

    Approved terminal: through `record_punches`; unknown PINs are held (`unknown_pin`).
    Pending terminal: every valid record is held (`pending_device`) until approval.
    Refusals come back with the record's line number and reason.
    """
    now = now or timezone.now()
    outcome = IngestOutcome()
    if not records:
        return outcome
    zone = device.zone
    extra = {"device": device.serial, "channel": channel, **(audit_extra or {})}
    if device.status == DeviceStatus.APPROVED:
        pins = pin_map(device, (rec.pin for rec in records))
        inputs = [_input_for(device, rec, zone, pins) for rec in records]

        def on_unknown(items: list[tuple[int, PunchInput]]) -> int:
            outcome.held_reasons.update((i, HoldReason.UNKNOWN_PIN) for i, _item in items)
            return hold(
                [
                    _held_row(device, records[i], item.at, HoldReason.UNKNOWN_PIN, channel)
                    for i, item in items
                ]
            )

        result = record_punches(
            inputs,
            actor=actor,
            on_unknown=on_unknown,
            now=now,
            recompute=recompute,
            audit_action=f"devices.{channel}.punches",
            audit_extra=extra,
        )
        outcome.new, outcome.duplicate, outcome.held = result.new, result.duplicate, result.held
        outcome.punch_ids = result.punch_ids
        outcome.refused = [
            LineRefusal(records[r.index].line_no, r.code, r.message, records[r.index].raw)
            for r in result.rejected
        ]
        outcome.statuses = ["duplicate"] * len(records)
        for index in result.new_indexes:
            outcome.statuses[index] = "new"
        for index in outcome.held_reasons:
            outcome.statuses[index] = "held"
        for refusal in result.rejected:
            outcome.statuses[refusal.index] = "refused"
        return outcome
    # Pending (the caller refuses disabled terminals): the same time checks, then hold.
    rows = []
    for index, rec in enumerate(records):
        at = rec.local_time.replace(tzinfo=zone)
        code = _time_problem(at, now)
        if code is not None:
            outcome.refused.append(
                LineRefusal(rec.line_no, code, str(REFUSAL_MESSAGES[code]), rec.raw)
            )
            outcome.statuses.append("refused")
            continue
        outcome.statuses.append("held")
        outcome.held_reasons[index] = HoldReason.PENDING_DEVICE
        rows.append(_held_row(device, rec, at, HoldReason.PENDING_DEVICE, channel))
    outcome.held = hold(rows)
    record(
        f"devices.{channel}.held",
        obj=device,
        actor=actor,
        extra={
            **extra,
            "reason": HoldReason.PENDING_DEVICE,
            "counts": {"held": outcome.held, "refused": len(outcome.refused)},
        },
    )
    return outcome


def _time_problem(at: datetime, now: datetime) -> str | None:
    if at < EARLIEST_VALID or at.year > 2100:
        return "impossible_timestamp"
    if at > now + FUTURE_TOLERANCE:
        return "future_time"
    return None


def log_refusals(device: Device, table: str, refusals: Iterable[LineRefusal]) -> int:
    return log_entries(
        device,
        ((LogKind.REJECTED_LINE, table, r.code, r.message, r.line_no, r.raw) for r in refusals),
    )


def line_refusals(errors: Iterable[protocol.LineError]) -> list[LineRefusal]:
    return [LineRefusal(e.line_no, e.code, e.reason, e.raw) for e in errors]


# --------------------------------------------------------------------------- push handlers


def handle_attlog(
    device: Device,
    body: bytes,
    *,
    table: str = "ATTLOG",
    stamp: str | None = None,
    now: datetime | None = None,
) -> IngestOutcome:
    """`POST cdata?table=ATTLOG` (or 3.x `rtlog`): one transaction for punches, logs, stamp."""
    now = now or timezone.now()
    text = protocol.decode_body(body)
    cleaned = clean_stamp(stamp)
    if table == "rtlog":
        records, errors = protocol.parse_rtlog(text)
        people = [r for r in records if r.pin != "0"]
        refusals = line_refusals(errors) + [
            LineRefusal(r.line_no, "no_user", REASONS["no_user"], r.raw)
            for r in records
            if r.pin == "0"
        ]
        records = people
    else:
        records, errors = protocol.parse_attlog(text)
        refusals = line_refusals(errors)
    with transaction.atomic():
        outcome = ingest_records(
            device,
            records,
            channel="push",
            now=now,
            audit_extra={
                "table": table,
                "stamp": cleaned or "",
                "unreadable_lines": len(errors),
            },
        )
        outcome.refused = refusals + outcome.refused
        log_refusals(device, table, outcome.refused)
        if not records and refusals:
            record(
                "devices.push.unreadable",
                obj=device,
                actor=None,
                extra={"table": table, "lines": len(refusals), "stamp": cleaned or ""},
            )
        changes: dict[str, Any] = {"last_upload": now, "last_seen": now}
        if cleaned is not None and table == "ATTLOG":
            changes["attlog_stamp"] = cleaned
        log_bad_stamp(device, table, stamp, cleaned)
        update_device(device, **changes, **clock_reading(device, records, now=now))
        if outcome.new:
            link_photos(device, now=now)
    return outcome


# A real-time upload (Realtime=1) carries the punch seconds after it happened: its newest
# time, against our clock, shows the terminal's drift. A punch ahead of our clock is drift
# for certain; one behind it may be a delayed upload, so only a small lag counts, and only
# from uploads of a few lines (a batch is old punches caught up).
CLOCK_READING_MAX_LINES = 3
CLOCK_READING_MAX_LAG = timedelta(minutes=15)
CLOCK_READING_MAX_LEAD = timedelta(days=2)


def clock_reading(device: Device, records: Sequence[Any], *, now: datetime) -> dict[str, Any]:
    """The drift fields to store (and the clock command queued when drift is too large)."""
    if not records or len(records) > CLOCK_READING_MAX_LINES:
        return {}
    newest = max(r.local_time for r in records)
    server_local = now.astimezone(device.zone).replace(tzinfo=None)
    drift = newest - server_local
    if drift < -CLOCK_READING_MAX_LAG or drift > CLOCK_READING_MAX_LEAD:
        return {}
    seconds = int(drift.total_seconds())
    if abs(seconds) > conf.clock_drift_limit_seconds():
        queue_clock_set(device, reason="drift", drift=seconds)
    return {"clock_drift": seconds, "clock_checked_at": now}


def queue_clock_set(
    device: Device, *, reason: str, drift: int | None = None, actor: Any = None
) -> DeviceCommand | None:
    """Queue `SET OPTIONS DateTime` unless one is already waiting or unanswered (audited)."""
    pending = DeviceCommand.objects.filter(
        device=device,
        command=protocol.SET_CLOCK,
        status__in=(CommandStatus.QUEUED, CommandStatus.SENT),
    )
    if pending.exists():
        return None
    command = DeviceCommand.objects.create(
        device=device,
        command=protocol.SET_CLOCK,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    record(
        "devices.command.queue",
        obj=command,
        actor=actor,
        after={"device": device.serial, "command": command.command, "reason": reason,
               "drift_seconds": drift},
    )  # fmt: skip
    return command


def log_bad_stamp(device: Device, table: str, stamp: str | None, cleaned: str | None) -> None:
    if stamp and cleaned is None:
        log_entries(
            device, [(LogKind.ERROR, table, "bad_stamp", REASONS["bad_stamp"], None, stamp[:200])]
        )


def handle_operlog(
    device: Device, body: bytes, *, stamp: str | None = None, now: datetime | None = None
) -> int:
    """`POST cdata?table=OPERLOG`: user records and operations are logged, org is not touched.

    HR keeps the employee list; a USER line only tells which PIN and name the terminal
    knows, which helps when assigning held punches. Templates (FP, FACE…) are counted.
    """
    now = now or timezone.now()
    entries, errors = protocol.parse_operlog(protocol.decode_body(body))
    cleaned = clean_stamp(stamp)
    logs: list[tuple[str, str, str, str, int | None, str]] = []
    templates: list[tuple[int, str, dict[str, str]]] = []
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.kind] = counts.get(entry.kind, 0) + 1
        if entry.kind == "USER" and isinstance(entry.fields, dict):
            pin = entry.fields.get("PIN", "")
            name = entry.fields.get("Name", "")
            logs.append(
                (
                    LogKind.USER,
                    "OPERLOG",
                    "user",
                    f"PIN={pin} Name={name}",
                    entry.line_no,
                    entry.raw,
                )
            )
        elif entry.kind in biometrics.OPERLOG_KINDS and isinstance(entry.fields, dict):
            templates.append((entry.line_no, entry.kind, entry.fields))
        elif entry.kind == "OPLOG":
            logs.append(
                (LogKind.OPERLOG, "OPERLOG", "oplog", "\t".join(entry.fields), entry.line_no, "")
            )
    logs += [
        (LogKind.REJECTED_LINE, "OPERLOG", e.code, e.reason, e.line_no, _no_template(e.raw))
        for e in errors
    ]
    with transaction.atomic():
        for line_no, tag, fields in templates:  # stored encrypted; the log never has the bytes
            code, message = biometrics.store_operlog_template(device, tag, fields, now=now)
            logs.append((LogKind.USER, "OPERLOG", code, message, line_no, ""))
        log_entries(device, logs)
        record(
            "devices.push.operlog",
            obj=device,
            actor=None,
            extra={"counts": counts, "refused": len(errors), "stamp": cleaned or ""},
        )
        changes: dict[str, Any] = {"last_upload": now, "last_seen": now}
        if cleaned is not None:
            changes["operlog_stamp"] = cleaned
        log_bad_stamp(device, "OPERLOG", stamp, cleaned)
        update_device(device, **changes)
    return len(entries)


def _no_template(raw: str) -> str:
    """A refused template line is logged by its tag only: the bytes are biometric data."""
    tag = raw.lstrip().split(" ", 1)[0].split("\t", 1)[0].upper()
    return f"{tag} … (template not kept)" if tag in protocol.TEMPLATE_TAGS else raw


# Keys of a `table=options` body (or an INFO answer) we keep in columns as well.
_OPTION_COLUMNS = {
    "FWVersion": "firmware",
    "FirmVer": "firmware",
    "UserCount": "user_count",
    "FPCount": "fp_count",
    "TransactionCount": "log_count",
}


def _option_changes(device: Device, values: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    merged = {**(device.options or {}), **{k[:64]: v[:500] for k, v in values.items()}}
    if len(merged) <= 200:
        changes["options"] = merged
    for key, column in _OPTION_COLUMNS.items():
        value = values.get(key, "").strip()
        if not value:
            continue
        if column.endswith("_count"):
            if value.isdigit() and len(value) < 10:
                changes[column] = int(value)
        else:
            changes[column] = value[:120] if column == "firmware" else value[:64]
    return changes


def handle_options(device: Device, body: bytes, *, now: datetime | None = None) -> None:
    """`POST cdata?table=options`: the reported options; a refused pair is logged alone."""
    values, errors = protocol.parse_options(protocol.decode_body(body))
    with transaction.atomic():
        log_refusals(device, "options", line_refusals(errors))
        update_device(
            device, **seen(device, now or timezone.now()), **_option_changes(device, values)
        )


def handle_photo(
    device: Device, body: bytes, *, stamp: str | None = None, now: datetime | None = None
) -> DevicePhoto | None:
    """ATTPHOTO / fdata: store a checked punch photo of an approved terminal, within its quota.

    Whatever is refused (a pending terminal, not a picture, too many pixels, the quota full)
    is logged — once per interval for the refusals a terminal repeats — and answered `OK`
    like a stored photo, so the terminal does not resend it forever. A pending terminal's
    photo stamp stays where it is: once approved, it sends its photos again.
    """
    now = now or timezone.now()
    header, image, errors = protocol.parse_attphoto(body)
    cleaned = clean_stamp(stamp)
    described = " ".join(f"{k}={v}" for k, v in header.items())[:500]
    if device.status != DeviceStatus.APPROVED:
        log_once(device, LogKind.PHOTO, "not_approved", photos.REASONS["not_approved"], now=now)
        return None
    changes: dict[str, Any] = {"last_upload": now, "last_seen": now}
    if cleaned is not None:
        changes["attphoto_stamp"] = cleaned
    try:
        info = photos.inspect_image(
            image, max_bytes=conf.photo_max_bytes(), max_pixels=conf.photo_max_pixels()
        )
    except photos.PhotoRefusedError as refused:
        with transaction.atomic():
            log_refusals(device, "ATTPHOTO", line_refusals(errors))
            log_entries(
                device,
                [(LogKind.PHOTO, "ATTPHOTO", refused.code, refused.message, None, described)],
            )
            log_bad_stamp(device, "ATTPHOTO", stamp, cleaned)
            update_device(device, **changes)
        return None
    digest = photos.digest(image)
    if DevicePhoto.objects.filter(device=device, sha256=digest).exists():
        update_device(device, **changes)  # the terminal re-sent a photo we keep already
        return None
    name = photos.save_file(image, info.content_type, now)
    try:
        with transaction.atomic():
            Device.objects.select_for_update().filter(pk=device.pk).first()  # quota: one at a time
            used = DevicePhoto.objects.filter(device=device).aggregate(total=Sum("size"))["total"]
            if (used or 0) + len(image) > conf.photo_quota_bytes():
                photos.delete_file(name)
                log_once(device, LogKind.PHOTO, "quota_full", photos.REASONS["quota_full"], now=now)
                update_device(device, **changes)
                return None
            photo = _photo_row(device, header, info, name, len(image), digest, now)
            log_refusals(device, "ATTPHOTO", line_refusals(errors))
            log_bad_stamp(device, "ATTPHOTO", stamp, cleaned)
            record(
                "devices.push.photo",
                obj=photo,
                actor=None,
                extra={
                    "device": device.serial,
                    "bytes": len(image),
                    "sha256": digest,
                    "pin": photo.pin,
                    "punch": photo.punch_id,
                    "stamp": cleaned or "",
                },
            )
            update_device(device, **changes)
    except IntegrityError:  # the same photo stored by a concurrent request
        photos.delete_file(name)
        return None
    except BaseException:
        photos.delete_file(name)
        raise
    return photo


def _photo_row(
    device: Device,
    header: dict[str, str],
    info: photos.ImageInfo,
    name: str,
    size: int,
    digest: str,
    now: datetime,
) -> DevicePhoto:
    sent_name = header.get("PIN", "")[:120]
    parsed = protocol.parse_photo_name(sent_name)
    pin, local_time, taken_at = "", "", None
    if parsed is not None:
        pin, moment = parsed
        local_time, taken_at = (
            moment.strftime(LOCAL_TIME_FORMAT),
            moment.replace(tzinfo=device.zone),
        )
    photo = DevicePhoto(
        device=device,
        file=name,
        size=size,
        sha256=digest,
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        name=sent_name,
        pin=pin,
        local_time=local_time,
        taken_at=taken_at,
    )
    if taken_at is not None:
        photo.punch_id = _punch_ids(device, [(pin, taken_at)]).get((pin, taken_at))
    with transaction.atomic():  # a savepoint: the unique (device, sha256) may be hit
        photo.save()
    return photo


def _punch_ids(
    device: Device, keys: Sequence[tuple[str, datetime]]
) -> dict[tuple[str, datetime], int]:
    """Punches of this terminal by (PIN, time), through their duplicate key (indexed)."""
    by_key = {
        dedup_key_for(
            PunchInput(at=at, source=PunchSource.DEVICE, device_sn=device.serial, pin=pin), 0
        ): (pin, at)
        for pin, at in keys
    }
    return {
        by_key[key]: pk
        for key, pk in Punch.objects.filter(dedup_key__in=list(by_key)).values_list(
            "dedup_key", "pk"
        )
    }


PHOTO_LINK_WINDOW = timedelta(days=2)


def link_photos(device: Device, *, now: datetime) -> int:
    """Link this terminal's recent photos that arrived before their punch (PIN + time)."""
    waiting = list(
        DevicePhoto.objects.filter(
            device=device,
            punch__isnull=True,
            taken_at__isnull=False,
            received_at__gte=now - PHOTO_LINK_WINDOW,
        ).only("id", "pin", "taken_at")[:500]
    )
    if not waiting:
        return 0
    # taken_at is not null (filtered above); the check is for the type checker.
    found = _punch_ids(device, [(p.pin, p.taken_at) for p in waiting if p.taken_at is not None])
    linked = []
    for photo in waiting:
        if photo.taken_at is not None and (key := (photo.pin, photo.taken_at)) in found:
            photo.punch_id = found[key]
            linked.append(photo)
    DevicePhoto.objects.bulk_update(linked, ["punch"], batch_size=500)
    return len(linked)


def handle_poll(device: Device, *, info: str | None = None, now: datetime | None = None) -> str:
    """`GET getrequest`: note INFO, hand out queued commands (marked sent) or `OK`."""
    now = now or timezone.now()
    changes: dict[str, Any] = seen(device, now)
    if info:
        values, errors = protocol.parse_info(info)
        if errors:
            log_refusals(device, "INFO", line_refusals(errors))
        if values.get("firmware"):
            changes["firmware"] = values["firmware"][:120]
        for key in ("user_count", "fp_count", "log_count"):
            value = values.get(key, "")
            if value.isdigit() and len(value) < 10:
                changes[key] = int(value)
        # `ip` stays the address requests come from; INFO's own IP (maybe behind NAT) and
        # the rest are kept as reported.
        if values and (device.options or {}).get("INFO") != values:
            changes["options"] = {**(device.options or {}), "INFO": values}
    update_device(device, **changes)
    if device.status == DeviceStatus.DISABLED:
        return "OK"
    lines = []
    for command in due_commands(device, now=now):
        line = biometrics.command_line(
            command, protocol.command_text(command.command, now.astimezone(device.zone))
        )
        if line is not None:
            lines.append((command.pk, line))
    return protocol.format_commands(lines)


def _due_filter(now: datetime) -> Q:
    cutoff = now - timedelta(seconds=conf.command_timeout_seconds())
    return Q(status=CommandStatus.QUEUED) | Q(status=CommandStatus.SENT, sent_at__lt=cutoff)


def due_commands(device: Device, *, now: datetime) -> list[DeviceCommand]:
    """The commands to hand out now, oldest first, at most `commands_per_poll`, marked sent.

    Queued commands, and sent ones whose answer is overdue (`command_timeout_seconds`):
    those are sent again while they have attempts left, else they expire (audited and
    logged). Everything is in the rows, so a restart between send and answer loses nothing.
    """
    due = _due_filter(now)
    # Most polls find nothing: check without a transaction, which on SQLite takes the lock.
    if not DeviceCommand.objects.filter(due, device=device).exists():
        return []
    limit = conf.command_max_attempts()
    with transaction.atomic():
        candidates = list(
            DeviceCommand.objects.select_for_update()
            .filter(due, device=device)
            .order_by("id")[: conf.commands_per_poll() * 2 + 50]
        )
        expired = [c for c in candidates if c.status == CommandStatus.SENT and c.attempts >= limit]
        for command in expired:
            command.status = CommandStatus.EXPIRED
            command.done_at = now
            command.save(update_fields=["status", "done_at"])
            record(
                "devices.command.expire",
                obj=command,
                actor=None,
                extra={"device": device.serial, "command": command.command,
                       "attempts": command.attempts},
            )  # fmt: skip
        log_entries(
            device,
            [
                (LogKind.COMMAND, "getrequest", "command_expired",
                 f"command {c.pk} ({c.command[:60]}) unanswered after {c.attempts} attempts",
                 None, "")
                for c in expired
            ],
        )  # fmt: skip
        commands = [c for c in candidates if c not in expired][: conf.commands_per_poll()]
        for command in commands:
            command.status = CommandStatus.SENT
            command.sent_at = now
            command.attempts += 1
        DeviceCommand.objects.bulk_update(commands, ["status", "sent_at", "attempts"])
    return commands


def handle_command_results(device: Device, body: bytes, *, now: datetime | None = None) -> int:
    """`POST devicecmd`: store each command's return code; INFO answers refresh the options."""
    now = now or timezone.now()
    results, errors = protocol.parse_devicecmd(protocol.decode_body(body))
    ids = [r.id for r in results if isinstance(r.id, int)]
    done = 0
    with transaction.atomic():
        commands = {
            c.pk: c
            for c in DeviceCommand.objects.select_for_update().filter(device=device, pk__in=ids)
        }
        unknown = []
        answered: list[protocol.CommandResult] = []
        clock_set = False
        option_values: dict[str, str] = {}
        for result in results:
            command = commands.get(result.id) if isinstance(result.id, int) else None
            if command is None:
                unknown.append(result)
                continue
            if command.status in (CommandStatus.DONE, CommandStatus.FAILED):
                continue  # a repeated answer (the terminal re-posts after errors) changes nothing
            if result.return_code is None:
                unknown.append(result)
                continue
            answered.append(result)
            command.return_code = result.return_code
            command.status = CommandStatus.DONE if result.return_code == 0 else CommandStatus.FAILED
            command.done_at = now
            command.result = {"cmd": result.cmd, **result.extra}
            command.save(update_fields=["return_code", "status", "done_at", "result"])
            if command.command.split(" ", 1)[0] == "INFO":
                option_values.update(result.extra)
            if command.command == protocol.SET_CLOCK and result.return_code == 0:
                clock_set = True
            done += 1
        log_entries(
            device,
            [
                (LogKind.COMMAND, "devicecmd", "unknown_command",
                 f"result for command {r.id!r} that was not queued for this terminal"
                 if r.return_code is not None or not isinstance(r.id, int)
                 else f"result for command {r.id!r} without a return code",
                 None, r.raw)
                for r in unknown
            ],
        )  # fmt: skip
        log_refusals(device, "devicecmd", line_refusals(errors))
        if done:
            record(
                "devices.command.results",
                obj=device,
                actor=None,
                extra={
                    "results": [
                        {"id": r.id, "return": r.return_code, "cmd": r.cmd} for r in answered[:50]
                    ]
                },
            )
        clock: dict[str, Any] = {"clock_drift": 0, "clock_checked_at": now} if clock_set else {}
        update_device(
            device, **seen(device, now), **_option_changes(device, option_values), **clock
        )
    return done


# --------------------------------------------------------------------------- releasing holds


@dataclass
class ReleaseOutcome:
    recorded: int = 0
    duplicate: int = 0
    still_held: int = 0
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (held id, code, msg)

    def as_dict(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "duplicate": self.duplicate,
            "still_held": self.still_held,
            "refused": len(self.refused),
        }


def release_held(
    held: Sequence[HeldPunch],
    *,
    actor: Any,
    employee_id: int | None = None,
    now: datetime | None = None,
    audit_action: str,
    audit_extra: dict[str, Any] | None = None,
    on_resolved: Callable[[HeldPunch], None] | None = None,
) -> ReleaseOutcome:
    """Send held punches through `record_punches`; the caller owns the transaction.

    With `employee_id` they count for that employee (HR's assignment); without it the PIN
    decides and PINs still unknown are kept, re-marked `unknown_pin`. Each resolved hold
    is linked to its punch (found by the terminal dedup key, so duplicates link too).
    """
    now = now or timezone.now()
    outcome = ReleaseOutcome()
    if not held:
        return outcome
    inputs = []
    mappings: dict[int, dict[str, int]] = {}
    if employee_id is None:
        by_device: dict[int, tuple[Device, set[str]]] = {}
        for item in held:
            by_device.setdefault(item.device_id, (item.device, set()))[1].add(item.pin)
        mappings = {pk: pin_map(device, pins) for pk, (device, pins) in by_device.items()}
    for item in held:
        at = item.local_datetime.replace(tzinfo=item.device.zone)
        mapped = employee_id or mappings.get(item.device_id, {}).get(item.pin)
        inputs.append(
            PunchInput(
                at=at,
                source=PunchSource.DEVICE,
                employee_id=mapped,
                employee_no=None if mapped is not None else item.pin,
                device_sn=item.device_sn,
                pin=item.pin,
                verify_mode=item.verify_mode,
                punch_state=item.punch_state,
                raw=item.raw,
            )
        )
    unknown_idx: set[int] = set()

    def keep_unknown(items: list[tuple[int, PunchInput]]) -> int:
        unknown_idx.update(i for i, _item in items)
        return len(items)

    result = record_punches(
        inputs,
        actor=actor,
        on_unknown=keep_unknown,
        now=now,
        audit_action=audit_action,
        audit_extra={"held_ids": [h.pk for h in held][:200], **(audit_extra or {})},
    )
    refused = {r.index: r for r in result.rejected}
    keys = {i: dedup_key_for(inp, employee_id or 0) for i, inp in enumerate(inputs)}
    punch_by_key = {
        key: (pk, employee)
        for key, pk, employee in Punch.objects.filter(
            dedup_key__in=list(keys.values())
        ).values_list("dedup_key", "pk", "employee_id")
    }
    created = set(result.punch_ids)
    user = actor if getattr(actor, "is_authenticated", False) else None
    to_update: list[HeldPunch] = []
    for index, item in enumerate(held):
        if index in unknown_idx:
            outcome.still_held += 1
            if item.reason != HoldReason.UNKNOWN_PIN:
                item.reason = HoldReason.UNKNOWN_PIN
                item.at = inputs[index].at
                to_update.append(item)
            continue
        item.resolved_at = now
        item.resolved_by = user
        if index in refused:
            refusal = refused[index]
            item.resolution = f"refused: {refusal.code}: {refusal.message}"[:300]
            outcome.refused.append((item.pk, refusal.code, refusal.message))
        else:
            item.punch_id, item.employee_id = punch_by_key.get(keys[index], (None, employee_id))
            if item.punch_id in created:
                item.resolution = "recorded"
                outcome.recorded += 1
            else:
                item.resolution = "duplicate"
                outcome.duplicate += 1
        item.at = inputs[index].at
        to_update.append(item)
        if on_resolved is not None:
            on_resolved(item)
    HeldPunch.objects.bulk_update(
        to_update,
        ["reason", "at", "resolved_at", "resolved_by", "resolution", "punch", "employee"],
        batch_size=500,
    )
    _link_released_photos([item for item in to_update if item.punch_id])
    return outcome


def _link_released_photos(released: Sequence[HeldPunch]) -> int:
    """A held punch that now counts gets the photo the terminal took of it (PIN + time)."""
    if not released:
        return 0
    punch_of = {(h.device_id, h.pin, h.at): h.punch_id for h in released}
    waiting = DevicePhoto.objects.filter(
        punch__isnull=True,
        device_id__in={h.device_id for h in released},
        pin__in={h.pin for h in released},
        taken_at__in={h.at for h in released},
    ).only("id", "device_id", "pin", "taken_at")
    linked = []
    for photo in waiting:
        if photo.taken_at is None:  # never: filtered by taken_at__in
            continue
        punch_id = punch_of.get((photo.device_id, photo.pin, photo.taken_at))
        if punch_id is not None:
            photo.punch_id = punch_id
            linked.append(photo)
    DevicePhoto.objects.bulk_update(linked, ["punch"], batch_size=500)
    return len(linked)
