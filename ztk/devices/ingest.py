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
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from ztk.audit.services import record
from ztk.punches.models import Punch, PunchSource
from ztk.punches.services import (
    EARLIEST_VALID,
    FUTURE_TOLERANCE,
    REFUSAL_MESSAGES,
    PunchInput,
    dedup_key_for,
    record_punches,
)

from . import protocol
from .models import (
    LOCAL_TIME_FORMAT,
    SERIAL_PATTERN,
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceLog,
    DeviceStatus,
    HeldPunch,
    HoldReason,
    LogKind,
)

log = logging.getLogger(__name__)

SMALLINT_MAX = 32767
MAX_COMMANDS_PER_POLL = 20
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
}


class TooManyPendingError(Exception):
    """More unknown terminals than anyone approves: stop adding them (a flood, not a site)."""


def max_pending() -> int:
    """DEVICE_MAX_PENDING setting, else ZTK_DEVICE_MAX_PENDING, else 200."""
    env = os.environ.get("ZTK_DEVICE_MAX_PENDING", "").strip()
    return int(getattr(settings, "DEVICE_MAX_PENDING", int(env) if env.isdigit() else 200))


def auto_approve_enabled() -> bool:
    """DEVICE_AUTO_APPROVE setting, else the ZTK_DEVICE_AUTO_APPROVE environment flag."""
    env = os.environ.get("ZTK_DEVICE_AUTO_APPROVE", "").strip().lower() in {"1", "true", "yes"}
    return bool(getattr(settings, "DEVICE_AUTO_APPROVE", env))


def valid_serial(serial: str | None) -> bool:
    return bool(serial) and _SERIAL.fullmatch(serial) is not None


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

    On first contact INFO and CHECK are queued (common practice: learn what the terminal is
    and make it upload what it has). With DEVICE_AUTO_APPROVE it starts approved.
    """
    now = now or timezone.now()
    device = Device.objects.select_related("attendance_group").filter(serial=serial).first()
    if device is None:
        device = _device_create(serial, ip=ip, push_version=push_version, now=now)
    changes: dict[str, Any] = seen(device, now)
    if ip and device.ip != ip:
        changes["ip"] = ip[:64]
    if push_version and device.push_version != push_version[:20]:
        changes["push_version"] = push_version[:20]
    update_device(device, **changes)
    return device


def _device_create(
    serial: str, *, ip: str | None, push_version: str | None, now: datetime
) -> Device:
    auto = auto_approve_enabled()
    if not auto and Device.objects.filter(status=DeviceStatus.PENDING).count() >= max_pending():
        log.warning("terminal %s refused: too many terminals wait for approval", serial)
        raise TooManyPendingError(serial)
    try:
        with transaction.atomic():
            device = Device.objects.create(
                serial=serial,
                status=DeviceStatus.APPROVED if auto else DeviceStatus.PENDING,
                ip=(ip or "")[:64],
                push_version=(push_version or "")[:20],
                last_seen=now,
                approved_at=now if auto else None,
            )
            for command in ("INFO", "CHECK"):
                DeviceCommand.objects.create(device=device, command=command)
            record(
                "devices.device.first_contact",
                obj=device,
                actor=None,
                after={"serial": serial, "status": device.status, "ip": device.ip},
                extra={"auto_approved": auto, "queued": ["INFO", "CHECK"]},
            )
    except IntegrityError:  # a concurrent request from the same terminal created it first
        return Device.objects.select_related("attendance_group").get(serial=serial)
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
    """Bulk-write (kind, table, code, message, line_no, raw) log lines."""
    rows = [
        DeviceLog(
            device=device,
            device_sn=(device.serial if device else serial)[:64],
            kind=kind,
            table=table[:16],
            code=code[:40],
            message=str(message)[:500],
            line_no=line_no,
            raw=raw[: protocol.MAX_LINE_LENGTH * 4],
        )
        for kind, table, code, message, line_no, raw in entries
    ]
    if rows:
        DeviceLog.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def log_refusal(device: Device, *, table: str, now: datetime | None = None) -> None:
    """A disabled terminal's upload: logged, at most once per interval (it retries often)."""
    now = now or timezone.now()
    recent = DeviceLog.objects.filter(
        device=device,
        kind=LogKind.REFUSED,
        at__gte=now - timedelta(seconds=REFUSAL_LOG_INTERVAL_SECONDS),
    ).exists()
    if not recent:
        log_entries(
            device,
            [(LogKind.REFUSED, table, "device_disabled", REASONS["device_disabled"], None, "")],
        )


# --------------------------------------------------------------------------- punches


def _small(value: int | None) -> int | None:
    """Codes beyond a small integer cannot be stored; the raw line still has them."""
    return value if value is not None and 0 <= value <= SMALLINT_MAX else None


def _input_for(device: Device, rec: protocol.AttLogRecord, zone) -> PunchInput:
    return PunchInput(
        at=rec.local_time.replace(tzinfo=zone),
        source=PunchSource.DEVICE,
        employee_no=rec.pin,
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
        inputs = [_input_for(device, rec, zone) for rec in records]

        def on_unknown(items: list[tuple[int, PunchInput]]) -> int:
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
        return outcome
    # Pending (the caller refuses disabled terminals): the same time checks, then hold.
    rows = []
    for rec in records:
        at = rec.local_time.replace(tzinfo=zone)
        code = _time_problem(at, now)
        if code is not None:
            outcome.refused.append(
                LineRefusal(rec.line_no, code, str(REFUSAL_MESSAGES[code]), rec.raw)
            )
            continue
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
            audit_extra={"table": table, "stamp": stamp or "", "unreadable_lines": len(errors)},
        )
        outcome.refused = refusals + outcome.refused
        log_refusals(device, table, outcome.refused)
        if not records and refusals:
            record(
                "devices.push.unreadable",
                obj=device,
                actor=None,
                extra={"table": table, "lines": len(refusals), "stamp": stamp or ""},
            )
        changes: dict[str, Any] = {"last_upload": now, "last_seen": now}
        cleaned = clean_stamp(stamp)
        if cleaned is not None and table == "ATTLOG":
            changes["attlog_stamp"] = cleaned
        elif stamp and cleaned is None:
            log_entries(
                device,
                [(LogKind.ERROR, table, "bad_stamp", REASONS["bad_stamp"], None, stamp[:200])],
            )
        update_device(device, **changes)
    return outcome


def handle_operlog(
    device: Device, body: bytes, *, stamp: str | None = None, now: datetime | None = None
) -> int:
    """`POST cdata?table=OPERLOG`: user records and operations are logged, org is not touched.

    HR keeps the employee list; a USER line only tells which PIN and name the terminal
    knows, which helps when assigning held punches. Templates (FP, FACE…) are counted.
    """
    now = now or timezone.now()
    entries, errors = protocol.parse_operlog(protocol.decode_body(body))
    logs: list[tuple[str, str, str, str, int | None, str]] = []
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
        elif entry.kind == "OPLOG":
            logs.append(
                (LogKind.OPERLOG, "OPERLOG", "oplog", "\t".join(entry.fields), entry.line_no, "")
            )
    logs += [(LogKind.REJECTED_LINE, "OPERLOG", e.code, e.reason, e.line_no, e.raw) for e in errors]
    with transaction.atomic():
        log_entries(device, logs)
        record(
            "devices.push.operlog",
            obj=device,
            actor=None,
            extra={"counts": counts, "refused": len(errors), "stamp": stamp or ""},
        )
        changes: dict[str, Any] = {"last_upload": now, "last_seen": now}
        cleaned = clean_stamp(stamp)
        if cleaned is not None:
            changes["operlog_stamp"] = cleaned
        update_device(device, **changes)
    return len(entries)


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
    values = protocol.parse_options(protocol.decode_body(body))
    update_device(device, **seen(device, now or timezone.now()), **_option_changes(device, values))


def handle_photo(
    device: Device, body: bytes, *, stamp: str | None = None, now: datetime | None = None
) -> str | None:
    """ATTPHOTO / fdata: store the JPEG through Django storage; return its storage name."""
    now = now or timezone.now()
    header, image = protocol.parse_attphoto(body)
    with transaction.atomic():
        name = None
        if not image:
            log_entries(
                device,
                [(LogKind.ERROR, "ATTPHOTO", "no_image", "the upload has no image data", None,
                  " ".join(f"{k}={v}" for k, v in header.items())[:500])],
            )  # fmt: skip
        else:
            base = get_valid_filename(header.get("PIN") or f"{now:%Y%m%d%H%M%S}.jpg")[:100]
            if not base.lower().endswith((".jpg", ".jpeg")):
                base += ".jpg"
            name = default_storage.save(
                f"device-photos/{device.serial}/{now:%Y/%m}/{base}", ContentFile(image)
            )
            log_entries(
                device, [(LogKind.PHOTO, "ATTPHOTO", "photo", name, None, str(header)[:500])]
            )
            record(
                "devices.push.photo",
                obj=device,
                actor=None,
                extra={"file": name, "bytes": len(image), "stamp": stamp or ""},
            )
        changes: dict[str, Any] = {"last_upload": now, "last_seen": now}
        cleaned = clean_stamp(stamp)
        if cleaned is not None:
            changes["attphoto_stamp"] = cleaned
        update_device(device, **changes)
    return name


def handle_poll(device: Device, *, info: str | None = None, now: datetime | None = None) -> str:
    """`GET getrequest`: note INFO, hand out queued commands (marked sent) or `OK`."""
    now = now or timezone.now()
    changes: dict[str, Any] = seen(device, now)
    if info:
        values = protocol.parse_info(info)
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
    # Most polls find nothing: check without a transaction, which on SQLite takes the lock.
    if not DeviceCommand.objects.filter(device=device, status=CommandStatus.QUEUED).exists():
        return "OK"
    with transaction.atomic():
        commands = list(
            DeviceCommand.objects.select_for_update()
            .filter(device=device, status=CommandStatus.QUEUED)
            .order_by("id")[:MAX_COMMANDS_PER_POLL]
        )
        if not commands:
            return "OK"
        DeviceCommand.objects.filter(pk__in=[c.pk for c in commands]).update(
            status=CommandStatus.SENT, sent_at=now
        )
    return protocol.format_commands((c.pk, c.command) for c in commands)


def handle_command_results(device: Device, body: bytes, *, now: datetime | None = None) -> int:
    """`POST devicecmd`: store each command's return code; INFO answers refresh the options."""
    now = now or timezone.now()
    results = protocol.parse_devicecmd(protocol.decode_body(body))
    ids = [r.id for r in results if isinstance(r.id, int)]
    done = 0
    with transaction.atomic():
        commands = {
            c.pk: c
            for c in DeviceCommand.objects.select_for_update().filter(device=device, pk__in=ids)
        }
        unknown = []
        option_values: dict[str, str] = {}
        for result in results:
            command = commands.get(result.id) if isinstance(result.id, int) else None
            if command is None:
                unknown.append(result)
                continue
            command.return_code = result.return_code
            command.status = CommandStatus.DONE if result.return_code == 0 else CommandStatus.FAILED
            command.done_at = now
            command.result = {"cmd": result.cmd, **result.extra}
            command.save(update_fields=["return_code", "status", "done_at", "result"])
            if command.command.split(" ", 1)[0] == "INFO":
                option_values.update(result.extra)
            done += 1
        log_entries(
            device,
            [
                (LogKind.COMMAND, "devicecmd", "unknown_command",
                 f"result for command {r.id!r} that was not queued for this terminal",
                 None, r.raw)
                for r in unknown
            ],
        )  # fmt: skip
        if done:
            record(
                "devices.command.results",
                obj=device,
                actor=None,
                extra={
                    "results": [
                        {"id": r.id, "return": r.return_code, "cmd": r.cmd} for r in results[:50]
                    ]
                },
            )
        update_device(device, **seen(device, now), **_option_changes(device, option_values))
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
    for item in held:
        at = item.local_datetime.replace(tzinfo=item.device.zone)
        inputs.append(
            PunchInput(
                at=at,
                source=PunchSource.DEVICE,
                employee_id=employee_id,
                employee_no=None if employee_id is not None else item.pin,
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
    return outcome
