"""Biometric templates and the people on terminals: what goes out to the terminals.

Two jobs, one state table (`TerminalUser`: what each terminal was last told):

- **Templates** (`template_store_uploaded`): a fingerprint, face or palm template a
  terminal uploads (2.x OPERLOG `FP`/`FACE` lines; 3.x `BIODATA`, through the same call) is
  stored encrypted (`biokey`), audited, and copied to the other terminals of the
  employee's attendance group. Nothing shows or exports the bytes; a template command
  names its template and the bytes are added only when it is handed out.
- **People** (`sync_employees`, `sync_device`): the terminals of an employee's group get
  `DATA UPDATE USERINFO` (PIN from the `TerminalPin` mapping, else the employee number;
  name; card) and the templates; terminals the employee should no longer be on get
  `DATA DELETE USERINFO`. The sync compares the wanted state with `TerminalUser`, so it
  is idempotent; a newer command replaces a still-queued one about the same subject.

Every employee save (pages, API, import, admin, demo) and every terminal approval or group
change schedules a sync after the commit (`schedule`, wired in `apps.py`).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ztk.audit.services import record
from ztk.org.models import Employee

from . import biokey, conf
from .models import (
    BiometricOptOut,
    BiometricTemplate,
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceStatus,
    TemplateKind,
    TerminalPin,
    TerminalUser,
)

log = logging.getLogger(__name__)

# A face template of the newer algorithms is a few tens of KB in base64; more is garbage.
MAX_TEMPLATE_BYTES = 48 * 1024
MAX_INDEX = 99
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
# What a PIN we send back in a command may be: no space, tab, '=' or control character.
_PIN = re.compile(r"^[0-9A-Za-z_.-]{1,24}$")

REFUSALS = {
    "not_approved": "templates are stored only from approved terminals",
    "bad_template": "the template is empty, not base64, or too large",
    "bad_kind": "unknown template kind",
    "bad_index": "the template number is out of range",
    "unknown_pin": "no employee has this PIN",
    "bad_pin": "the PIN has characters a terminal command cannot carry",
    "employee_inactive": "the employee is not active",
    "consent_withdrawn": "the employee withdrew consent to biometric processing",
}


# --------------------------------------------------------------------------- wire formats


def is_protocol3(device: Device) -> bool:
    """A terminal that announced push protocol 3.x gets BIODATA commands (h-term3x)."""
    return (device.push_version or "").strip().startswith("3")


# 3.x BIODATA Type numbers (PUSH SDK 3.x description; unverified on hardware).
BIODATA_TYPES = {TemplateKind.FINGER: 1, TemplateKind.FACE: 2, TemplateKind.PALM: 8}


def template_supported(device: Device, kind: str) -> bool:
    return is_protocol3(device) or kind in (TemplateKind.FINGER, TemplateKind.FACE)


def template_update_command(device: Device, template: BiometricTemplate, pin: str) -> str:
    """The command without the template bytes (added by `command_line` when handed out)."""
    if is_protocol3(device):
        major, _, minor = (template.version or "").partition(".")
        return (
            f"DATA UPDATE BIODATA Pin={pin}\tNo={template.index}\tIndex=0\t"
            f"Valid={template.valid}\tDuress=0\tType={BIODATA_TYPES[TemplateKind(template.kind)]}"
            f"\tMajorVer={major or 0}\tMinorVer={minor or 0}\tFormat=0"
        )
    table = "FINGERTMP" if template.kind == TemplateKind.FINGER else "FACE"
    return (
        f"DATA UPDATE {table} PIN={pin}\tFID={template.index}\tSize={template.size}\t"
        f"Valid={template.valid}"
    )


def template_delete_command(device: Device, kind: str, index: int, pin: str) -> str:
    if is_protocol3(device):
        return (
            f"DATA DELETE BIODATA Pin={pin}\tType={BIODATA_TYPES[TemplateKind(kind)]}\tNo={index}"
        )
    if kind == TemplateKind.FINGER:
        return f"DATA DELETE FINGERTMP PIN={pin}\tFID={index}"
    return f"DATA DELETE FACE PIN={pin}"


def _field(value: str) -> str:
    """A value inside a tab-separated command: no tab, line break or other control."""
    return "".join(ch for ch in value if ch.isprintable())


def userinfo_update_command(pin: str, name: str, card: str) -> str:
    return f"DATA UPDATE USERINFO PIN={pin}\tName={_field(name)[:24]}\tPri=0\tCard={card}"


def userinfo_delete_command(pin: str) -> str:
    return f"DATA DELETE USERINFO PIN={pin}"


def command_line(command: DeviceCommand, text: str) -> str | None:
    """The line handed out for `command` (text: after the clock fill-in): a template command
    gets its bytes now, decrypted in memory only. None: cannot be sent (template gone)."""
    if not command.sync_key.startswith("tmpl:") or " UPDATE " not in command.command:
        return text
    template = command.template
    if template is None:
        return None
    try:
        data = biokey.decrypt(bytes(template.ciphertext), template.crypto_context)
    except biokey.BiometricKeyError as exc:
        log.error("template %s of command %s cannot be decrypted: %s", template.pk, command.pk, exc)
        return None
    key = "Tmp" if "BIODATA" in text else "TMP"
    return f"{text}\t{key}={base64.b64encode(data).decode('ascii')}"


# --------------------------------------------------------------------------- employees/PINs


def employee_for_pin(device: Device, pin: str) -> Employee | None:
    from .ingest import pin_map  # cycle: ingest imports this module for the poll

    mapped = pin_map(device, [pin]).get(pin)
    if mapped is not None:
        return Employee.objects.filter(pk=mapped).first()
    return Employee.objects.filter(employee_no=pin).first()


def _pins_for(employee: Employee, devices: Iterable[Device]) -> dict[int, tuple[str, str]]:
    """device id → (PIN, card) on that terminal: its own mapping, the group's, else the
    employee number."""
    devices = list(devices)
    rows = list(
        TerminalPin.objects.filter(employee=employee)
        .filter(Q(device__in=devices) | Q(group_id__in={d.attendance_group_id for d in devices}))
        .order_by("-pk")  # several PINs in one scope: the newest mapping is sent
    )
    result: dict[int, tuple[str, str]] = {}
    for device in devices:
        own = next((r for r in rows if r.device_id == device.pk), None)
        group = next(
            (r for r in rows if r.device_id is None and r.group_id == device.attendance_group_id),
            None,
        )
        chosen = own or group
        result[device.pk] = (chosen.pin, chosen.card) if chosen else (employee.employee_no, "")
    return result


# --------------------------------------------------------------------------- queueing


@dataclass
class Queued:
    device: Device
    command: DeviceCommand
    new: bool


def _queue(
    device: Device, text: str, sync_key: str, template: BiometricTemplate | None = None
) -> Queued:
    """Queue, or replace the still-queued command about the same subject (coalescing)."""
    waiting = (
        DeviceCommand.objects.select_for_update()
        .filter(device=device, sync_key=sync_key, status=CommandStatus.QUEUED)
        .order_by("-id")
        .first()
    )
    if waiting is not None:
        waiting.command, waiting.template = text, template
        waiting.save(update_fields=["command", "template"])
        return Queued(device, waiting, False)
    created = DeviceCommand.objects.create(
        device=device, command=text, sync_key=sync_key, template=template
    )
    return Queued(device, created, True)


def _user_key(employee_id: int, pin: str) -> str:
    return f"user:{employee_id}:{pin}"[:64]


def _template_key(employee_id: int, kind: str, index: int, pin: str) -> str:
    return f"tmpl:{employee_id}:{kind}:{index}:{pin}"[:64]


# --------------------------------------------------------------------------- the sync


def wanted_devices(employee: Employee) -> list[Device]:
    """The terminals this employee should be on: the approved ones of their group."""
    if not employee.active or employee.attendance_group_id is None:
        return []
    return list(
        Device.objects.filter(
            attendance_group_id=employee.attendance_group_id, status=DeviceStatus.APPROVED
        ).order_by("serial")
    )


@dataclass
class SyncResult:
    users: int = 0
    deletes: int = 0
    templates: int = 0
    template_deletes: int = 0

    @property
    def total(self) -> int:
        return self.users + self.deletes + self.templates + self.template_deletes


def _sync_one(employee: Employee, *, reason: str, actor: Any = None) -> SyncResult:
    result = SyncResult()
    devices = wanted_devices(employee)
    known = {
        tu.device_id: tu
        for tu in TerminalUser.objects.select_for_update()
        .select_related("device")
        .filter(employee=employee)
    }
    if not employee.active:
        template_purge(employee, reason="left", actor=actor)
    templates = list(BiometricTemplate.objects.filter(employee=employee, valid__gt=0))
    pins = _pins_for(employee, devices)
    queued: list[dict[str, Any]] = []
    copies: list[dict[str, Any]] = []
    deletes: list[dict[str, Any]] = []

    def note(q: Queued, bucket: list[dict[str, Any]], **extra: Any) -> None:
        bucket.append({"terminal": q.device.serial, "id": q.command.pk, **extra})

    for device in devices:
        pin, card = pins[device.pk]
        tu = known.pop(device.pk, None)
        if tu is not None and tu.pin != pin:
            q = _queue(device, userinfo_delete_command(tu.pin), _user_key(employee.pk, tu.pin))
            note(q, queued, command=q.command.command)
            result.deletes += 1
            tu.delete()
            tu = None
        if tu is None:
            tu = TerminalUser(device=device, employee=employee, pin=pin, name="", card="")
        before = (tu.name, tu.card, dict(tu.templates or {}))
        if (tu.name, tu.card) != (employee.name, card) or tu.pk is None:
            q = _queue(
                device,
                userinfo_update_command(pin, employee.name, card),
                _user_key(employee.pk, pin),
            )
            note(q, queued, command=q.command.command)
            result.users += 1
            tu.name, tu.card = employee.name, card
        sent = dict(tu.templates or {})
        current = {
            f"{t.kind}:{t.index}": t for t in templates if template_supported(device, t.kind)
        }
        for key, template in current.items():
            if sent.get(key) != template.digest:
                q = _queue(
                    device,
                    template_update_command(device, template, pin),
                    _template_key(employee.pk, template.kind, template.index, pin),
                    template,
                )
                note(q, copies, kind=template.kind, index=template.index)
                sent[key] = template.digest
                result.templates += 1
        for key in [k for k in sent if k not in current]:
            kind, _, index = key.partition(":")
            del sent[key]
            if kind not in TemplateKind.values or not template_supported(device, kind):
                continue
            q = _queue(
                device,
                template_delete_command(device, kind, int(index or 0), pin),
                _template_key(employee.pk, kind, int(index or 0), pin),
            )
            note(q, deletes, kind=kind, index=int(index or 0))
            result.template_deletes += 1
        if tu.pk is None or before != (tu.name, tu.card, sent):
            tu.templates = sent
            tu.save()
    for tu in known.values():  # terminals the employee should no longer be on
        device = tu.device
        for key in list(tu.templates or {}):
            kind, _, index = key.partition(":")
            if kind in TemplateKind.values and template_supported(device, kind):
                q = _queue(
                    device,
                    template_delete_command(device, kind, int(index or 0), tu.pin),
                    _template_key(employee.pk, kind, int(index or 0), tu.pin),
                )
                note(q, deletes, kind=kind, index=int(index or 0))
                result.template_deletes += 1
        q = _queue(device, userinfo_delete_command(tu.pin), _user_key(employee.pk, tu.pin))
        note(q, queued, command=q.command.command)
        result.deletes += 1
        tu.delete()
    base = {"employee": employee.employee_no, "reason": reason}
    if queued:
        record(
            "devices.user.sync",
            obj=employee,
            actor=actor,
            extra={**base, "commands": queued[:100]},
        )
    if copies:
        record(
            "devices.template.copy",
            obj=employee,
            actor=actor,
            extra={**base, "copies": copies[:200]},
        )
    if deletes:
        record(
            "devices.template.delete_on_terminals",
            obj=employee,
            actor=actor,
            extra={**base, "deletes": deletes[:200]},
        )
    return result


def sync_employees(
    employee_ids: Iterable[int], *, reason: str = "change", actor: Any = None
) -> SyncResult:
    """Bring the terminals in line with these employees (one transaction per employee)."""
    total = SyncResult()
    for employee_id in sorted(set(employee_ids)):
        with transaction.atomic():
            employee = (
                Employee.objects.select_for_update(of=("self",))
                .select_related("attendance_group")
                .filter(pk=employee_id)
                .first()
            )
            if employee is None:
                continue
            one = _sync_one(employee, reason=reason, actor=actor)
        total.users += one.users
        total.deletes += one.deletes
        total.templates += one.templates
        total.template_deletes += one.template_deletes
    return total


def device_employee_ids(device: Device) -> set[int]:
    """Everyone who is or should be on this terminal."""
    ids = set(TerminalUser.objects.filter(device=device).values_list("employee_id", flat=True))
    if device.attendance_group_id is not None and device.status == DeviceStatus.APPROVED:
        ids |= set(
            Employee.objects.filter(
                attendance_group_id=device.attendance_group_id, active=True
            ).values_list("pk", flat=True)
        )
    return ids


def sync_device(device: Device, *, reason: str = "terminal", actor: Any = None) -> SyncResult:
    return sync_employees(device_employee_ids(device), reason=reason, actor=actor)


# --------------------------------------------------------------------------- after commit

_pending = threading.local()
# More employees than this at once (an import, a terminal approved into a big group): the
# background worker syncs them, in chunks, so the page that made the change answers fast.
SYNC_INLINE_MAX = 20
SYNC_CHUNK = 200


def _to_worker(ids: list[int]) -> bool:
    """Hand the sync to the worker; False when it cannot be queued (then it runs here)."""
    from .tasks import sync_employees_task  # cycle: tasks imports services, which imports us

    try:
        for start in range(0, len(ids), SYNC_CHUNK):
            sync_employees_task(ids[start : start + SYNC_CHUNK])
    except Exception:  # noqa: BLE001 - the queue is unreachable: do it now instead
        log.exception("could not queue the terminal sync; running it in the request")
        return False
    return True


def _state() -> dict[str, set[int]]:
    state = getattr(_pending, "state", None)
    if state is None:
        state = _pending.state = {"employees": set(), "devices": set()}
    return state


def schedule(*, employee_ids: Iterable[int] = (), device_ids: Iterable[int] = ()) -> None:
    """Sync these employees / terminals once the current transaction commits.

    Several changes in one transaction are coalesced into one sync per employee. After a
    rollback the ids stay pending and ride along with the next commit, which is harmless:
    the sync compares committed state with what the terminals were told.
    """
    if not conf.user_sync_enabled():
        return
    state = _state()
    state["employees"].update(employee_ids)
    state["devices"].update(device_ids)
    transaction.on_commit(_flush)


def _flush() -> None:
    state = _state()
    employees, devices = set(state["employees"]), set(state["devices"])
    state["employees"].clear()
    state["devices"].clear()
    if not employees and not devices:
        return
    try:
        if not (
            Device.objects.filter(status=DeviceStatus.APPROVED).exists()
            or TerminalUser.objects.exists()
        ):
            return  # no terminal to tell (an import of many people on a fresh install)
        for device in Device.objects.filter(pk__in=devices):
            employees |= device_employee_ids(device)
        if len(employees) <= SYNC_INLINE_MAX or not _to_worker(sorted(employees)):
            sync_employees(employees, reason="change")
    except Exception:  # the change itself is committed; the next change or "sync all" retries
        log.exception("terminal sync failed for employees %s", sorted(employees)[:20])


# --------------------------------------------------------------------------- templates


@dataclass
class StoreOutcome:
    template: BiometricTemplate | None = None
    changed: bool = False
    refused: str = ""


def _decode(template: str | bytes) -> bytes | None:
    if isinstance(template, bytes):
        return template if 0 < len(template) <= MAX_TEMPLATE_BYTES else None
    text = template.strip()
    if not text or len(text) > MAX_TEMPLATE_BYTES * 4 // 3 + 4 or not _BASE64.match(text):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if 0 < len(data) <= MAX_TEMPLATE_BYTES else None


def template_store_uploaded(
    device: Device,
    *,
    pin: str,
    kind: str,
    index: int,
    template: str | bytes,
    size: int | None = None,
    valid: int = 1,
    format: str = "",
    version: str = "",
    now: datetime | None = None,
) -> StoreOutcome:
    """Store a template a terminal uploaded (base64 text as sent, or raw bytes).

    For the 2.x OPERLOG `FP`/`FACE` lines and the 3.x `BIODATA` records alike. Refused
    (with a code from `REFUSALS`, nothing stored) from a terminal that is not approved,
    for an unknown PIN, an inactive employee or one who withdrew consent. A re-upload of
    the same template changes nothing; a new or changed one is audited
    (`devices.template.store`) and, after the commit, copied to the other terminals of
    the employee's group. Runs in the caller's transaction when there is one.
    """
    if device.status != DeviceStatus.APPROVED:
        return StoreOutcome(refused="not_approved")
    if kind not in TemplateKind.values:
        return StoreOutcome(refused="bad_kind")
    if not _PIN.match(pin or ""):
        return StoreOutcome(refused="bad_pin")
    if not 0 <= index <= MAX_INDEX:
        return StoreOutcome(refused="bad_index")
    data = _decode(template)
    if data is None:
        return StoreOutcome(refused="bad_template")
    employee = employee_for_pin(device, pin)
    if employee is None:
        return StoreOutcome(refused="unknown_pin")
    if not employee.active:
        return StoreOutcome(refused="employee_inactive")
    if BiometricOptOut.objects.filter(employee=employee).exists():
        if template_supported(device, kind):  # enrolled again on the terminal: undo it there
            with transaction.atomic():
                q = _queue(
                    device,
                    template_delete_command(device, kind, index, pin),
                    _template_key(employee.pk, kind, index, pin),
                )
                record(
                    "devices.template.delete_on_terminals",
                    obj=employee,
                    actor=None,
                    extra={
                        "employee": employee.employee_no,
                        "reason": "consent withdrawn",
                        "deletes": [{"terminal": device.serial, "id": q.command.pk,
                                     "kind": kind, "index": index}],
                    },
                )  # fmt: skip
        return StoreOutcome(refused="consent_withdrawn")
    reported = size if size is not None and 0 < size < 10**7 else None
    with transaction.atomic():
        row = (
            BiometricTemplate.objects.select_for_update()
            .filter(employee=employee, kind=kind, index=index)
            .first()
        )
        fingerprint = biokey.digest(data)
        if row is not None and row.digest == fingerprint and row.valid == valid:
            changed = False
        else:
            before = None if row is None else _template_state(row)
            if row is None:
                row = BiometricTemplate(employee=employee, kind=kind, index=index)
            row.format, row.version = format[:24], version[:24]
            row.size = reported or len(data)
            row.valid = max(-1, min(int(valid), 32767))
            row.source_device = device
            row.ciphertext = biokey.encrypt(data, row.crypto_context)
            row.digest = fingerprint
            row.save()
            record(
                "devices.template.store",
                obj=row,
                actor=None,
                before=before,
                after=_template_state(row),
                extra={"terminal": device.serial, "pin": pin},
            )
            changed = True
        # The enrolling terminal has this template already: never send it back there.
        tu, _ = TerminalUser.objects.select_for_update().get_or_create(
            device=device, employee=employee, defaults={"pin": pin}
        )
        if tu.pin == pin:
            tu.templates = {**(tu.templates or {}), f"{kind}:{index}": fingerprint}
            tu.save(update_fields=["templates", "updated_at"])
        if changed:
            schedule(employee_ids=[employee.pk])
    return StoreOutcome(template=row, changed=changed)


def _template_state(row: BiometricTemplate) -> dict[str, Any]:
    """What the audit keeps of a template: never its bytes or digest."""
    return {
        "employee": row.employee.employee_no,
        "kind": row.kind,
        "index": row.index,
        "format": row.format,
        "version": row.version,
        "size": row.size,
        "valid": row.valid,
        "terminal": row.source_device.serial if row.source_device is not None else "",
    }


def template_purge(employee: Employee, *, reason: str, actor: Any = None) -> int:
    """Delete the employee's templates from the server (audited, inside the caller's
    transaction); template commands still waiting to go out are cancelled. The terminals
    get their delete commands from the sync that follows."""
    rows = list(BiometricTemplate.objects.select_for_update().filter(employee=employee))
    if not rows:
        return 0
    cancelled = DeviceCommand.objects.filter(
        template__in=rows, status__in=(CommandStatus.QUEUED, CommandStatus.SENT)
    ).update(
        status=CommandStatus.EXPIRED,
        done_at=timezone.now(),
        result={"cancelled": "template purged"},
        template=None,
    )
    record(
        "devices.template.purge",
        obj=employee,
        actor=actor,
        extra={
            "employee": employee.employee_no,
            "reason": reason,
            "templates": [{"kind": r.kind, "index": r.index} for r in rows],
            "cancelled_commands": cancelled,
        },
    )
    BiometricTemplate.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


# What terminals call the 2.x template tables in OPERLOG (and in table= names).
OPERLOG_KINDS = {
    "FP": TemplateKind.FINGER,
    "FINGERTMP": TemplateKind.FINGER,
    "FACE": TemplateKind.FACE,
}


def _int(value: str | None, default: int | None = None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 9 else default


def store_operlog_template(
    device: Device, tag: str, fields: dict[str, str], *, now: datetime | None = None
) -> tuple[str, str]:
    """One 2.x `FP`/`FACE` OPERLOG line → (log code, message without the template)."""
    kind = OPERLOG_KINDS[tag]
    pin = (fields.get("PIN") or "").strip()
    index = _int(fields.get("FID"), 0)
    outcome = template_store_uploaded(
        device,
        pin=pin,
        kind=kind,
        index=index if index is not None else -1,
        template=fields.get("TMP") or fields.get("Tmp") or "",
        size=_int(fields.get("Size")),
        valid=_int(fields.get("Valid"), 1) or 0,
        format="ZK" if kind == TemplateKind.FINGER else "ZKFACE",
        now=now,
    )
    where = f"PIN={pin} {tag} {index}"
    if outcome.refused:
        return "template_refused", f"{where}: {REFUSALS[outcome.refused]}"
    return ("template_stored" if outcome.changed else "template_unchanged"), where
