"""HR and system-admin actions on terminals: approve, disable, commands, held punches.

Each one checks `org.manage_organisation` first (HR or system admin; `actor=None` is the
command line), runs in one transaction and writes the audit record inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record, snapshot
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.core.parse import check_moment
from ztk.core.text import clean_text, escape_forbidden, is_clean_text
from ztk.org.models import AttendanceGroup, Employee

from . import biometrics, conf, photos, protocol
from .ingest import ReleaseOutcome, queue_clock_set, release_held, valid_serial
from .models import (
    BiometricOptOut,
    Device,
    DeviceCommand,
    DevicePhoto,
    DeviceStatus,
    GroupAllowList,
    HeldPunch,
    HoldReason,
    TerminalPin,
    TerminalUser,
    validate_time_zone,
)
from .networks import MAX_NETWORKS, NetworkError, parse_networks

log = logging.getLogger(__name__)

PERMISSION = "org.manage_organisation"

# Commands HR may queue (zkteco.md: seen working, plus the time-range re-upload, unverified).
ALLOWED_COMMANDS = (
    "INFO",
    "CHECK",
    "LOG",
    "REBOOT",
    "CLEAR LOG",
    "DATA QUERY ATTLOG",
    "DATA QUERY USERINFO",
    "GET OPTION FROM",
    "CLEAR PHOTO",
    protocol.SET_CLOCK,
)

MESSAGES = {
    "device_not_found": _("No terminal has this serial number."),
    "bad_time_zone": _("This is not a time zone name such as Asia/Shanghai."),
    "group_not_found": _("No attendance group has this code."),
    "bad_command": _("This command cannot be sent to a terminal."),
    "bad_range": _("The end of the range is before its start."),
    "nothing_to_assign": _("Choose held punches or a PIN to assign."),
    "not_approved": _("Some of these punches come from a terminal that is not approved yet."),
    "employee_inactive": _("The employee is not active."),
    "bad_network": _(
        "“%(entry)s” is not an IPv4 or IPv6 address or network such as 192.168.1.0/24 or "
        "2001:db8::/48."
    ),
    "bad_network_host_bits": _(
        "“%(entry)s” has bits set after the prefix length; did you mean %(hint)s?"
    ),
    "too_many_networks": _("At most %(max)d networks; summarise them with shorter prefixes."),
    "bad_pin": _("A terminal PIN is 1–24 characters without spaces or control characters."),
    "bad_card": _("A card number is 1–24 digits."),
    "pin_not_found": _("This PIN mapping does not exist (any more)."),
    "sync_not_approved": _("Only an approved terminal can be sent the users."),
    "terminal_not_assignable": _(
        "Terminal %(serial)s is not an approved terminal: approve it on the terminals page first."
    ),
}

DEVICE_FIELDS = ["serial", "name", "status", "attendance_group", "time_zone", "allowed_networks"]


def clean_networks(text: str | Sequence[str]) -> list[str]:
    """Allow-list text (lines, commas or spaces) as normalised CIDR; else DomainError."""
    try:
        return parse_networks(text)
    except NetworkError as exc:
        if exc.code == "too_many_networks":
            raise DomainError(
                "bad_network",
                MESSAGES["too_many_networks"] % {"max": MAX_NETWORKS},
                details={"max": MAX_NETWORKS},
            ) from None
        entry = escape_forbidden(exc.entry)  # shown back to the person who typed it
        if exc.hint:
            message = MESSAGES["bad_network_host_bits"] % {"entry": entry, "hint": exc.hint}
        else:
            message = MESSAGES["bad_network"] % {"entry": entry}
        raise DomainError(
            "bad_network", message, details={"entry": entry, "hint": exc.hint}
        ) from None


def require_manager(actor: Any) -> None:
    if actor is not None and not actor.has_perm(PERMISSION):
        raise PermissionDeniedError()


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def device_get(serial: str, *, lock: bool = False) -> Device:
    """The terminal with this serial; a string that cannot be a serial is simply not found
    (it never reaches the database, which may refuse it — NUL on PostgreSQL)."""
    if not valid_serial(serial):
        raise NotFoundError(MESSAGES["device_not_found"], code="device_not_found")
    qs = Device.objects.select_related("attendance_group")
    if lock:
        qs = qs.select_for_update(of=("self",))
    device = qs.filter(serial=serial).first()
    if device is None:
        raise NotFoundError(MESSAGES["device_not_found"], code="device_not_found")
    return device


TEXT_LABELS = {
    "name": _("Name"),
    "attendance_group": _("Attendance group"),
    "time_zone": _("Time zone"),
    "pin": _("PIN"),
    "serial": _("Serial number"),
}


def _check_texts(**values: str | None) -> None:
    """Terminal fields typed by HR or given on the command line: single-line core.text."""
    for field, value in values.items():
        clean_text(value, field=field, label=TEXT_LABELS[field])


def _name(name: str | None) -> str | None:
    """A terminal's display name through the shared text rule (None: leave it as it is)."""
    return None if name is None else clean_text(name, field=str(_("Name")), max_length=120)


def _serial_filter(serial: str | None) -> None:
    """A serial that cannot be a terminal's names none (the text rule ran in _check_texts)."""
    if serial and not valid_serial(serial):
        raise NotFoundError(MESSAGES["device_not_found"], code="device_not_found")


def _check_zone(time_zone: str | None) -> None:
    if time_zone:
        try:
            validate_time_zone(time_zone)
        except Exception:  # noqa: BLE001 - ValidationError
            raise DomainError("bad_time_zone", MESSAGES["bad_time_zone"]) from None


def _group(code: str | None) -> AttendanceGroup | None:
    if not code:
        return None
    group = AttendanceGroup.objects.filter(code=code).first()
    if group is None:
        raise DomainError("group_not_found", MESSAGES["group_not_found"])
    return group


@dataclass
class ApproveResult:
    device: Device
    released: ReleaseOutcome


def device_approve(
    *,
    actor: Any,
    serial: str,
    name: str | None = None,
    attendance_group: str | None = None,
    time_zone: str | None = None,
    now: datetime | None = None,
) -> ApproveResult:
    """Approve a terminal and count the punches it sent while pending.

    The group and time zone given here are applied first, so the held local times are read
    in the zone HR just chose. Approving a disabled terminal enables it again (it re-sends
    what was refused meanwhile); approving an approved one changes nothing.
    """
    require_manager(actor)
    _check_texts(name=name, attendance_group=attendance_group, time_zone=time_zone)
    _check_zone(time_zone)
    name = _name(name)
    now = now or timezone.now()
    with transaction.atomic():
        device = device_get(serial, lock=True)
        before = snapshot(device, DEVICE_FIELDS)
        group = _group(attendance_group)
        if group is not None:
            device.attendance_group = group
        if time_zone is not None:
            device.time_zone = time_zone
        if name is not None:
            device.name = name[:120]
        if device.status != DeviceStatus.APPROVED:
            device.status = DeviceStatus.APPROVED
            device.approved_at = now
            device.approved_by = _user(actor)
        device.save(
            update_fields=[
                "status",
                "attendance_group",
                "time_zone",
                "name",
                "approved_at",
                "approved_by",
            ]
        )
        after = snapshot(device, DEVICE_FIELDS)
        if after != before:
            record("devices.device.approve", obj=device, actor=actor, before=before, after=after)
        held = list(
            HeldPunch.objects.select_related("device__attendance_group")
            .filter(device=device, reason=HoldReason.PENDING_DEVICE, resolved_at__isnull=True)
            .order_by("local_time")
        )
        released = ReleaseOutcome()
        for start in range(0, len(held), 500):
            part = release_held(
                held[start : start + 500],
                actor=actor,
                now=now,
                audit_action="devices.device.approve.release",
                audit_extra={"device": device.serial},
            )
            released.recorded += part.recorded
            released.duplicate += part.duplicate
            released.still_held += part.still_held
            released.refused += part.refused
    return ApproveResult(device, released)


def device_disable(*, actor: Any, serial: str) -> Device:
    """Refuse a terminal's data from now on (it keeps it and re-sends once re-approved)."""
    require_manager(actor)
    with transaction.atomic():
        device = device_get(serial, lock=True)
        before = snapshot(device, DEVICE_FIELDS)
        if device.status != DeviceStatus.DISABLED:
            device.status = DeviceStatus.DISABLED
            device.save(update_fields=["status"])
            record(
                "devices.device.disable",
                obj=device,
                actor=actor,
                before=before,
                after=snapshot(device, DEVICE_FIELDS),
            )
    return device


def device_update(
    *,
    actor: Any,
    serial: str,
    name: str | None = None,
    attendance_group: str | None = None,
    time_zone: str | None = None,
    allowed_networks: str | Sequence[str] | None = None,
) -> Device:
    """Name, attendance group (hence time zone), time zone override and source allow-list.

    `allowed_networks` (CIDR, IPv4 or IPv6; empty: any address) is checked whole before
    anything changes, so a bad entry leaves the terminal as it was.
    """
    require_manager(actor)
    _check_texts(name=name, attendance_group=attendance_group, time_zone=time_zone)
    _check_zone(time_zone)
    name = _name(name)
    networks = clean_networks(allowed_networks) if allowed_networks is not None else None
    with transaction.atomic():
        device = device_get(serial, lock=True)
        before = snapshot(device, DEVICE_FIELDS)
        if name is not None:
            device.name = name[:120]
        if attendance_group is not None:
            device.attendance_group = _group(attendance_group) if attendance_group else None
        if time_zone is not None:
            device.time_zone = time_zone
        if networks is not None:
            device.allowed_networks = networks
        device.save(update_fields=["name", "attendance_group", "time_zone", "allowed_networks"])
        after = snapshot(device, DEVICE_FIELDS)
        if after != before:
            record("devices.device.update", obj=device, actor=actor, before=before, after=after)
    return device


def _valid_command(command: str) -> bool:
    if not command or len(command) > 1000 or "\r" in command or "\n" in command:
        return False
    if not is_clean_text(command, multiline=True):  # tab separates a command's fields
        return False
    return any(command == verb or command.startswith(verb + " ") for verb in ALLOWED_COMMANDS)


def device_queue_command(*, actor: Any, serial: str, command: str) -> DeviceCommand:
    """Queue one command; the terminal fetches it on its next getrequest poll."""
    require_manager(actor)
    command = (command or "").strip()
    if not _valid_command(command):
        raise DomainError("bad_command", MESSAGES["bad_command"])
    with transaction.atomic():
        device = device_get(serial)
        queued = DeviceCommand.objects.create(
            device=device, command=command, created_by=_user(actor)
        )
        record(
            "devices.command.queue",
            obj=queued,
            actor=actor,
            after={"device": device.serial, "command": command},
        )
    return queued


def device_set_clock(*, actor: Any, serial: str) -> DeviceCommand | None:
    """Queue "set the terminal clock from the server's"; None when one is already pending."""
    require_manager(actor)
    with transaction.atomic():
        device = device_get(serial, lock=True)
        return queue_clock_set(device, reason="requested", actor=actor)


def device_request_attlog(
    *, actor: Any, serial: str, start: datetime, end: datetime
) -> DeviceCommand:
    """Ask for the punches of a time range again (`DATA QUERY ATTLOG`, terminal local time).

    Unverified on hardware (see zkteco.md); `device_resend_all` is the dependable way.
    Re-sent punches are deduplicated, so asking twice is harmless.
    """
    check_moment(start, field="start")
    check_moment(end, field="end")
    if end < start:
        raise DomainError("bad_range", MESSAGES["bad_range"])
    device = device_get(serial)
    zone = device.zone
    fmt = "%Y-%m-%d %H:%M:%S"
    first = start.astimezone(zone) if start.tzinfo else start
    last = end.astimezone(zone) if end.tzinfo else end
    command = f"DATA QUERY ATTLOG StartTime={first:{fmt}}\tEndTime={last:{fmt}}"
    return device_queue_command(actor=actor, serial=serial, command=command)


def device_resend_all(*, actor: Any, serial: str) -> DeviceCommand:
    """Forget the ATTLOG stamp and queue CHECK: the terminal re-uploads every punch it has."""
    require_manager(actor)
    with transaction.atomic():
        device = device_get(serial, lock=True)
        before = {"attlog_stamp": device.attlog_stamp}
        device.attlog_stamp = "0"
        device.save(update_fields=["attlog_stamp"])
        record(
            "devices.device.resend_all",
            obj=device,
            actor=actor,
            before=before,
            after={"attlog_stamp": "0"},
        )
        return device_queue_command(actor=actor, serial=serial, command="CHECK")


def terminal_pin_set(
    *,
    actor: Any,
    pin: str,
    employee: Employee,
    serial: str | None = None,
    group: AttendanceGroup | None = None,
    card: str | None = None,
) -> TerminalPin:
    """Remember that `pin` on this terminal (or on every terminal of `group`) is `employee`.

    Later punches of that PIN count for the employee (`ingest.pin_map`); one mapping per
    PIN and scope, so setting it again moves the PIN to the new employee (audited). The
    PIN and `card` (None: keep; "": no card) are what the terminals are sent for the
    employee (`biometrics`; with several PINs in one scope, the newest mapping's).
    """
    require_manager(actor)
    pin = (pin or "").strip()
    if not _valid_pin(pin):
        raise DomainError("bad_pin", MESSAGES["bad_pin"])
    if card is not None:
        card = card.strip()
        if card and not (card.isascii() and card.isdigit() and len(card) <= 24):
            raise DomainError("bad_card", MESSAGES["bad_card"])
    if not employee.active:
        raise DomainError("employee_inactive", MESSAGES["employee_inactive"])
    with transaction.atomic():
        scope: dict[str, Any] = (
            {"device": device_get(serial)} if serial else {"group": group, "device": None}
        )
        if not serial and group is None:
            raise DomainError("group_not_found", MESSAGES["group_not_found"])
        existing = TerminalPin.objects.select_for_update().filter(pin=pin, **scope).first()
        before = (
            {"employee": existing.employee.employee_no, "card": existing.card} if existing else None
        )
        previous_owner = existing.employee_id if existing else None
        if existing is None:
            existing = TerminalPin.objects.create(
                pin=pin, employee=employee, card=card or "", **scope
            )
        elif existing.employee_id != employee.pk or (card is not None and card != existing.card):
            existing.employee = employee
            if card is not None:
                existing.card = card
            existing.save(update_fields=["employee", "card"])
        if previous_owner is not None and previous_owner != employee.pk:
            biometrics.schedule(employee_ids=[previous_owner])
        record(
            "devices.terminal_pin.set",
            obj=existing,
            actor=actor,
            before=before,
            after={
                "pin": pin,
                "employee": employee.employee_no,
                "card": existing.card,
                "terminal": serial or "",
                "group": group.code if group is not None and not serial else "",
            },
        )
    return existing


def _valid_pin(pin: str) -> bool:
    return bool(pin) and len(pin) <= 24 and not any(c.isspace() for c in pin) and is_clean_text(pin)


def terminal_pin_delete(*, actor: Any, pk: int) -> TerminalPin:
    """Forget a PIN mapping: that PIN is read as an employee number again, and the
    employee's terminals are sent their employee number as PIN (audited)."""
    require_manager(actor)
    with transaction.atomic():
        mapping = (
            TerminalPin.objects.select_for_update(of=("self",))  # device/group: outer joins
            .select_related("employee", "device", "group")
            .filter(pk=pk)
            .first()
        )
        if mapping is None:
            raise NotFoundError(MESSAGES["pin_not_found"], code="pin_not_found")
        record(
            "devices.terminal_pin.delete",
            obj=mapping,
            actor=actor,
            before={
                "pin": mapping.pin,
                "employee": mapping.employee.employee_no,
                "card": mapping.card,
                "terminal": mapping.device.serial if mapping.device else "",
                "group": mapping.group.code if mapping.group else "",
            },
        )
        mapping.delete()
    return mapping


def device_sync_all(*, actor: Any, serial: str) -> biometrics.SyncResult:
    """Send every user (and their templates) to this terminal again, as to a new one: for
    a replaced or reset device. What we believed the terminal had is forgotten first."""
    require_manager(actor)
    with transaction.atomic():
        device = device_get(serial, lock=True)
        if device.status != DeviceStatus.APPROVED:
            raise DomainError("not_approved", MESSAGES["sync_not_approved"], status=409)
        forgotten, _ = TerminalUser.objects.filter(device=device).delete()
        record(
            "devices.device.sync_all",
            obj=device,
            actor=actor,
            extra={"device": device.serial, "forgotten_users": forgotten},
        )
    return biometrics.sync_device(device, reason="sync all", actor=actor)


def biometric_consent_withdraw(*, actor: Any, employee: Employee, reason: str = "") -> int:
    """The employee withdrew consent to biometric processing (PIPL): their templates are
    deleted from the server now and from every terminal by the commands that follow; new
    uploads are refused until consent is recorded again. Returns the templates deleted."""
    require_manager(actor)
    reason = clean_text(reason or "", field="reason", label=_("Reason"), multiline=True)[:300]
    with transaction.atomic():
        opt_out, created = BiometricOptOut.objects.select_for_update().get_or_create(
            employee=employee, defaults={"withdrawn_by": _user(actor), "reason": reason}
        )
        purged = biometrics.template_purge(employee, reason="consent withdrawn", actor=actor)
        if created or purged:
            record(
                "devices.biometric.consent_withdraw",
                obj=employee,
                actor=actor,
                after={"employee": employee.employee_no, "reason": reason},
                extra={"templates_deleted": purged},
            )
        transaction.on_commit(
            partial(biometrics.sync_employees, [employee.pk], reason="consent withdrawn")
        )
    return purged


def biometric_consent_restore(*, actor: Any, employee: Employee) -> bool:
    """Consent given again: templates uploaded from now on are stored and shared."""
    require_manager(actor)
    with transaction.atomic():
        deleted, _ = BiometricOptOut.objects.filter(employee=employee).delete()
        if deleted:
            record(
                "devices.biometric.consent_restore",
                obj=employee,
                actor=actor,
                after={"employee": employee.employee_no},
            )
    return bool(deleted)


@dataclass
class AssignResult:
    employee: Employee
    released: ReleaseOutcome


def held_punch_assign(
    *,
    actor: Any,
    employee: Employee,
    held_ids: Sequence[int] | None = None,
    pin: str | None = None,
    serial: str | None = None,
    now: datetime | None = None,
    remember: bool = False,
) -> AssignResult:
    """Count held unknown-PIN punches for `employee`: chosen ones, or all of a PIN.

    The punches keep their terminal and PIN, so the duplicate key stays (serial, PIN,
    time) and a later re-upload adds nothing. Future punches of that PIN stay unknown
    until the terminal enrolment or the employee number is corrected — or, with
    `remember` (a PIN and a terminal given), a lasting PIN mapping makes them count.
    """
    require_manager(actor)
    _check_texts(pin=pin, serial=serial)
    if not held_ids and not pin:
        raise DomainError("nothing_to_assign", MESSAGES["nothing_to_assign"])
    _serial_filter(serial)
    if not employee.active:
        raise DomainError("employee_inactive", MESSAGES["employee_inactive"])
    now = now or timezone.now()
    with transaction.atomic():
        qs = HeldPunch.objects.select_related("device__attendance_group").filter(
            resolved_at__isnull=True
        )
        if held_ids:
            qs = qs.filter(pk__in=list(held_ids))
        if pin:
            qs = qs.filter(pin=pin)
        if serial:
            qs = qs.filter(device_sn=serial)
        held = list(qs.select_for_update(of=("self",)).order_by("device_sn", "local_time"))
        if any(
            h.reason == HoldReason.PENDING_DEVICE or h.device.status != DeviceStatus.APPROVED
            for h in held
        ):
            raise DomainError("not_approved", MESSAGES["not_approved"], status=409)
        if remember and pin and serial:
            terminal_pin_set(actor=actor, pin=pin, employee=employee, serial=serial)
        released = ReleaseOutcome()
        for start in range(0, len(held), 500):
            part = release_held(
                held[start : start + 500],
                actor=actor,
                employee_id=employee.pk,
                now=now,
                audit_action="devices.held_punch.assign",
                audit_extra={"employee": employee.employee_no, "pin": pin or ""},
            )
            released.recorded += part.recorded
            released.duplicate += part.duplicate
            released.refused += part.refused
    return AssignResult(employee, released)


def held_punch_dismiss(
    *,
    actor: Any,
    reason: str,
    held_ids: Sequence[int] | None = None,
    pin: str | None = None,
    serial: str | None = None,
) -> int:
    """Set held punches aside as not counting (e.g. a test PIN); they stay, with the reason."""
    require_manager(actor)
    _check_texts(pin=pin, serial=serial)
    if not held_ids and not pin:
        raise DomainError("nothing_to_assign", MESSAGES["nothing_to_assign"])
    _serial_filter(serial)
    reason = clean_text(reason, field="reason", label=_("Reason"), multiline=True)
    if len(reason) < 2:
        raise DomainError("reason_required", _("Give a reason."))
    now = timezone.now()
    with transaction.atomic():
        qs = HeldPunch.objects.select_for_update().filter(resolved_at__isnull=True)
        if held_ids:
            qs = qs.filter(pk__in=list(held_ids))
        if pin:
            qs = qs.filter(pin=pin)
        if serial:
            qs = qs.filter(device_sn=serial)
        ids = list(qs.values_list("pk", flat=True))
        HeldPunch.objects.filter(pk__in=ids).update(
            resolved_at=now, resolved_by=_user(actor), resolution=f"dismissed: {reason}"[:300]
        )
        if ids:
            record(
                "devices.held_punch.dismiss",
                object_type="devices.heldpunch",
                actor=actor,
                extra={"ids": ids[:200], "count": len(ids), "reason": reason[:300]},
            )
    return len(ids)


def group_allow_list_update(*, actor: Any, group: str, networks: str | Sequence[str]) -> list[str]:
    """Set the source addresses every terminal of an attendance group must connect from.

    Empty clears the list. Audited with before and after, like every change of who may
    send punches.
    """
    require_manager(actor)
    cleaned = clean_networks(networks)
    with transaction.atomic():
        target = _group(group)
        if target is None:
            raise DomainError("group_not_found", MESSAGES["group_not_found"])
        allow_list, _created = GroupAllowList.objects.select_for_update().get_or_create(
            group=target
        )
        before = list(allow_list.networks)
        if before != cleaned:
            allow_list.networks = cleaned
            allow_list.save(update_fields=["networks", "updated_at"])
            record(
                "devices.group_allow_list.update",
                obj=allow_list,
                actor=actor,
                before={"group": target.code, "networks": before},
                after={"group": target.code, "networks": cleaned},
            )
    return cleaned


def photo_purge_expired(*, now: datetime | None = None, batch: int = 500) -> int:
    """Delete terminal photos older than the retention period (the daily job; system actor).

    Rows go in one audited transaction per batch; files after it commits, so a failure
    leaves at worst an orphan file, never a row pointing at nothing.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.photo_retention_days())
    purged = 0
    while True:
        with transaction.atomic():
            rows = list(
                DevicePhoto.objects.select_for_update()
                .filter(received_at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", "file", "device__serial")[:batch]
            )
            if not rows:
                break
            DevicePhoto.objects.filter(pk__in=[pk for pk, _f, _s in rows]).delete()
            record(
                "devices.photo.purge",
                object_type="devices.devicephoto",
                actor=None,
                extra={
                    "count": len(rows),
                    "before": cutoff.isoformat(),
                    "retention_days": conf.photo_retention_days(),
                    "terminals": sorted({serial for _pk, _f, serial in rows}),
                },
            )
            names = [name for _pk, name, _s in rows]
            transaction.on_commit(partial(_delete_files, names))
        purged += len(rows)
    return purged


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            photos.delete_file(name)
        except OSError as exc:  # the row is gone; an orphan file is only disk space
            log.warning("could not delete photo %s: %s", name, exc)


def group_terminals_set(*, actor: Any, group: AttendanceGroup, serials: Sequence[str]) -> list[str]:
    """The approved terminals that count for `group` become exactly `serials`: those listed
    join it (leaving another group), approved ones of the group not listed leave it (no
    group). A serial that is not an approved terminal refuses the whole change. Each
    terminal that changes is audited like an edit (``devices.device.update``). Returns the
    serials that changed.
    """
    require_manager(actor)
    wanted = sorted({str(s).strip() for s in serials if str(s).strip()})
    for serial in wanted:
        _check_texts(serial=serial)
    with transaction.atomic():
        found = {
            d.serial: d
            for d in Device.objects.select_for_update(of=("self",))
            .select_related("attendance_group")
            .filter(serial__in=[s for s in wanted if valid_serial(s)])
        }
        for serial in wanted:
            device = found.get(serial)
            if device is None or device.status != DeviceStatus.APPROVED:
                raise DomainError(
                    "not_approved" if device is not None else "device_not_found",
                    MESSAGES["terminal_not_assignable"] % {"serial": escape_forbidden(serial)},
                    details={"field": "terminals", "serial": serial},
                )
        leaving = list(
            Device.objects.select_for_update(of=("self",))
            .select_related("attendance_group")
            .filter(attendance_group=group, status=DeviceStatus.APPROVED)
            .exclude(serial__in=wanted)
        )
        changed: list[str] = []
        for device, target in [*((found[s], group) for s in wanted), *((d, None) for d in leaving)]:
            if device.attendance_group_id == (target.pk if target is not None else None):
                continue
            before = snapshot(device, DEVICE_FIELDS)
            device.attendance_group = target
            device.save(update_fields=["attendance_group"])
            record(
                "devices.device.update",
                obj=device,
                actor=actor,
                before=before,
                after=snapshot(device, DEVICE_FIELDS),
                extra={"via": "group settings"},
            )
            changed.append(device.serial)
    return sorted(changed)
