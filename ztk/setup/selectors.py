"""Reads for the settings pages that span several apps (the group list and its page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from ztk.devices.models import Device, DeviceStatus
from ztk.org.models import AttendanceGroup, Department, Employee
from ztk.org.selectors import employee_matches
from ztk.punches.models import Geofence

MEMBERS_PER_PAGE = 100


@dataclass(frozen=True)
class GroupRow:
    group: AttendanceGroup
    members: int
    terminals: list[Device]


def group_rows() -> list[GroupRow]:
    """Every group with its number of active members and its approved terminals."""
    groups = list(
        AttendanceGroup.objects.annotate(
            member_count=Count("employees", filter=Q(employees__active=True))
        ).order_by("code")
    )
    terminals: dict[int, list[Device]] = {}
    for device in approved_terminals():
        if device.attendance_group_id is not None:
            terminals.setdefault(device.attendance_group_id, []).append(device)
    return [GroupRow(g, g.member_count, terminals.get(g.pk, [])) for g in groups]  # type: ignore[attr-defined]


def group_by_code(code: str) -> AttendanceGroup | None:
    if not code or len(code) > 32:
        return None
    return AttendanceGroup.objects.filter(code=code).first()


def approved_terminals() -> QuerySet[Device]:
    return (
        Device.objects.select_related("attendance_group")
        .filter(status=DeviceStatus.APPROVED)
        .order_by("serial")
    )


def geofences_of(group: AttendanceGroup) -> list[Geofence]:
    """The geofences that apply to the group's punches (read-only on the group's page).

    Through the reverse accessor, so it reads the same whether a fence belongs to one
    group or names several."""
    fences: list[Geofence] = list(group.geofences.order_by("name"))
    return fences


def members_page(group: AttendanceGroup, *, search: str = "", page: Any = 1) -> Page:
    qs = Employee.objects.select_related("department").filter(attendance_group=group)
    if search:
        qs = qs.filter(employee_matches(search))
    return Paginator(qs.order_by("-active", "employee_no"), MEMBERS_PER_PAGE).get_page(page)


def departments() -> list[Department]:
    return list(Department.objects.filter(active=True).order_by("code"))


def other_groups(group: AttendanceGroup) -> list[AttendanceGroup]:
    return list(AttendanceGroup.objects.filter(active=True).exclude(pk=group.pk).order_by("code"))
