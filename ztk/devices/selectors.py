"""Reads for the terminal pages and the API (no writes here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from ztk.org.models import AttendanceGroup, Employee
from ztk.scheduling.selectors import working_days_between

from . import conf
from .models import (
    BiometricOptOut,
    BiometricTemplate,
    Device,
    DeviceCommand,
    DeviceLog,
    DevicePhoto,
    DeviceStatus,
    GroupAllowList,
    HeldPunch,
    LogKind,
    TemplateKind,
    TerminalPin,
    TerminalUser,
)

PROBLEM_KINDS = (LogKind.REJECTED_LINE, LogKind.REFUSED, LogKind.ERROR)


def terminals_reported_after(group_id: int | None, moment: datetime) -> bool | None:
    """Every approved terminal of the group has uploaded after `moment`; None when the group
    has no approved terminal. Registered with `ztk.attendance.sources` (finalising days)."""
    devices = Device.objects.filter(attendance_group_id=group_id, status=DeviceStatus.APPROVED)
    if not devices.exists():
        return None
    return (
        not devices.filter(last_seen__lt=moment).exists()
        and not devices.filter(last_seen__isnull=True).exists()
    )


def device_list(*, status: str | None = None) -> QuerySet[Device]:
    """Terminals with the number of punches each still holds."""
    qs = Device.objects.select_related("attendance_group").annotate(
        held_count=Count("held_punches", filter=Q(held_punches__resolved_at__isnull=True))
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("serial")


def pending_devices() -> QuerySet[Device]:
    return device_list(status=DeviceStatus.PENDING).order_by("created_at")


@dataclass(frozen=True)
class HeldGroup:
    device_sn: str
    pin: str
    reason: str
    count: int
    first: str
    last: str
    items: list[HeldPunch]


def held_groups(*, limit_per_group: int = 50) -> list[HeldGroup]:
    """Unresolved held punches by terminal, PIN and reason, with their first few rows."""
    summary = list(
        HeldPunch.objects.filter(resolved_at__isnull=True)
        .values("device_sn", "pin", "reason")
        .annotate(count=Count("id"), first=Min("local_time"), last=Max("local_time"))
        .order_by("reason", "device_sn", "pin")[:200]
    )
    if not summary:
        return []
    rows: dict[tuple[str, str, str], list[HeldPunch]] = {}
    keys = Q()
    for s in summary:
        keys |= Q(device_sn=s["device_sn"], pin=s["pin"], reason=s["reason"])
    for item in (
        HeldPunch.objects.filter(keys, resolved_at__isnull=True)
        .only("id", "device_sn", "pin", "reason", "local_time", "punch_state", "verify_mode")
        .order_by("local_time")[:5000]
    ):
        bucket = rows.setdefault((item.device_sn, item.pin, item.reason), [])
        if len(bucket) < limit_per_group:
            bucket.append(item)
    return [
        HeldGroup(
            s["device_sn"],
            s["pin"],
            s["reason"],
            s["count"],
            s["first"],
            s["last"],
            rows.get((s["device_sn"], s["pin"], s["reason"]), []),
        )
        for s in summary
    ]


def held_count() -> int:
    return HeldPunch.objects.filter(resolved_at__isnull=True).count()


def held_count_between(*, group: AttendanceGroup, start: datetime, end: datetime) -> int:
    """Unresolved held punches in [start, end) taken by the group's terminals or by
    terminals of no group (they may belong to the group's people)."""
    return (
        HeldPunch.objects.filter(resolved_at__isnull=True, at__gte=start, at__lt=end)
        .filter(Q(device__attendance_group=group) | Q(device__attendance_group__isnull=True))
        .count()
    )


def device_problems(*, device: Device | None = None, limit: int = 50) -> list[DeviceLog]:
    qs = DeviceLog.objects.filter(kind__in=PROBLEM_KINDS)
    if device is not None:
        qs = qs.filter(device=device)
    return list(qs.order_by("-at", "-id")[:limit])


def device_logs(*, device: Device, limit: int = 100) -> list[DeviceLog]:
    return list(DeviceLog.objects.filter(device=device).order_by("-at", "-id")[:limit])


def device_commands(*, device: Device, limit: int = 50) -> list[DeviceCommand]:
    return list(DeviceCommand.objects.filter(device=device).order_by("-id")[:limit])


def is_online(device: Device, now: datetime, *, seconds: int = 120) -> bool:
    return device.last_seen is not None and (now - device.last_seen).total_seconds() <= seconds


def in_working_hours(
    device: Device, now: datetime, working_days: dict[date, bool] | None = None
) -> bool:
    """Now is within working hours of a working day, in the terminal's own time zone.
    `working_days` remembers each date's answer across the terminals of one page (one
    calendar read per date, not one per terminal)."""
    local = now.astimezone(device.zone)
    start, end = conf.working_hours()
    if not start <= local.hour < end:
        return False
    known = {} if working_days is None else working_days
    day = local.date()
    if day not in known:
        known[day] = bool(working_days_between(day, day))
    return known[day]


def is_silent(device: Device, now: datetime, working_days: dict[date, bool] | None = None) -> bool:
    """An approved terminal not heard from for `silent_minutes` during working hours."""
    if device.status != DeviceStatus.APPROVED or not in_working_hours(device, now, working_days):
        return False
    limit = timedelta(minutes=conf.silent_minutes())
    return device.last_seen is None or now - device.last_seen > limit


def silent_terminals(now: datetime, *, group_id: int | None = None) -> list[Device]:
    """Approved terminals silent during working hours now (for the terminals page and,
    later, the early warnings): not heard from for `silent_minutes`, or never."""
    cutoff = now - timedelta(minutes=conf.silent_minutes())
    qs = Device.objects.select_related("attendance_group").filter(
        Q(last_seen__lt=cutoff) | Q(last_seen__isnull=True), status=DeviceStatus.APPROVED
    )
    if group_id is not None:
        qs = qs.filter(attendance_group_id=group_id)
    working_days: dict[date, bool] = {}
    return [d for d in qs.order_by("serial") if is_silent(d, now, working_days)]


def clock_drift_too_large(device: Device) -> bool:
    return (
        device.clock_drift is not None
        and abs(device.clock_drift) > conf.clock_drift_limit_seconds()
    )


def terminal_pins(device: Device) -> list[TerminalPin]:
    """The lasting PIN mappings that apply to this terminal: its own and its group's."""
    scope = Q(device=device)
    if device.attendance_group_id is not None:
        scope |= Q(group_id=device.attendance_group_id)
    return list(
        TerminalPin.objects.filter(scope).select_related("employee", "group").order_by("pin")[:500]
    )


def held_count_for(device: Device) -> int:
    return HeldPunch.objects.filter(device=device, resolved_at__isnull=True).count()


def group_allow_lists() -> list[tuple[AttendanceGroup, list[str]]]:
    """Every active attendance group with its terminal allow-list (empty: any address)."""
    lists = dict(GroupAllowList.objects.values_list("group_id", "networks"))
    return [
        (group, list(lists.get(group.pk) or []))
        for group in AttendanceGroup.objects.filter(active=True).order_by("code")
    ]


def device_photos(*, device: Device, limit: int = 24) -> list[DevicePhoto]:
    return list(
        DevicePhoto.objects.filter(device=device)
        .select_related("punch__employee")
        .order_by("-received_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class PhotoUsage:
    count: int
    bytes: int
    quota: int
    retention_days: int


def photo_usage(device: Device) -> PhotoUsage:
    totals = DevicePhoto.objects.filter(device=device).aggregate(n=Count("id"), size=Sum("size"))
    return PhotoUsage(
        totals["n"] or 0,
        totals["size"] or 0,
        conf.photo_quota_bytes(),
        conf.photo_retention_days(),
    )


def photo_get(*, serial: str, pk: int) -> DevicePhoto | None:
    return DevicePhoto.objects.filter(device__serial=serial, pk=pk).first()


def pin_mappings(limit: int = 1000) -> list[TerminalPin]:
    """Every lasting PIN mapping, for HR's PIN page (terminal ones and group ones)."""
    return list(
        TerminalPin.objects.select_related("employee", "device", "group").order_by(
            "group__code", "device__serial", "pin"
        )[:limit]
    )


def terminal_user_count(device: Device) -> int:
    """How many employees the sync has sent to this terminal."""
    return TerminalUser.objects.filter(device=device).count()


@dataclass
class BiometricRow:
    employee: Employee
    counts: dict[str, int]
    terminals: list[str]
    last_stored: datetime | None

    @property
    def kind_counts(self) -> list[tuple[str, int]]:
        """(label, count) for every kind, in display order."""
        return [(str(label), self.counts.get(value, 0)) for value, label in TemplateKind.choices]


def biometric_overview(limit: int = 1000) -> list[BiometricRow]:
    """Per employee: how many templates of each kind are stored, enrolled on which
    terminals, when last stored. Never the template bytes or their digest."""
    rows: dict[int, BiometricRow] = {}
    for template in (
        BiometricTemplate.objects.select_related("employee", "source_device")
        .only(
            "employee__employee_no",
            "employee__name",
            "kind",
            "index",
            "updated_at",
            "source_device__serial",
        )
        .order_by("employee__employee_no", "kind", "index")[: limit * 10]
    ):
        row = rows.get(template.employee_id)
        if row is None:
            if len(rows) >= limit:
                break
            row = rows[template.employee_id] = BiometricRow(template.employee, {}, [], None)
        row.counts[template.kind] = row.counts.get(template.kind, 0) + 1
        serial = template.source_device.serial if template.source_device else ""
        if serial and serial not in row.terminals:
            row.terminals.append(serial)
        if row.last_stored is None or template.updated_at > row.last_stored:
            row.last_stored = template.updated_at
    return list(rows.values())


def biometric_opt_outs(limit: int = 1000) -> list[BiometricOptOut]:
    return list(
        BiometricOptOut.objects.select_related("employee", "withdrawn_by").order_by(
            "-withdrawn_at"
        )[:limit]
    )
