"""An attendance group's settings as one use case, for the settings pages and the API.

The group itself (code, name, zone, day boundary, active) and its members are org's
(``ztk.org.group_services``), its punch rules the punch store's
(``ztk.punches.settings_services``); this module writes them together in one transaction
and, because the zone, the day boundary and the group decide which day a punch belongs to
and which plan judges it, asks for today's days of the people concerned to be recomputed
once the change commits (the schedule-change hook: yesterday and today, closed periods
untouched). Days further back keep their judgement until ``ztk recompute``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from ztk.org import group_services as org_groups
from ztk.org.models import AttendanceGroup, Employee
from ztk.punches.models import PunchSettings
from ztk.punches.settings_services import punch_settings_save
from ztk.scheduling.hooks import ScheduleChange, schedule_changed


@dataclass(frozen=True)
class GroupSaved:
    group: AttendanceGroup
    created: bool
    changed: bool
    punch_settings: PunchSettings


def _recompute_today(employee_ids: Iterable[int], reason: str) -> None:
    ids = frozenset(employee_ids)
    if ids:
        today = timezone.localdate()
        schedule_changed([ScheduleChange(ids, today, None, reason=reason)])


@transaction.atomic
def group_save(
    *,
    actor: Any,
    code: str,
    name: str,
    time_zone: str,
    day_boundary_hour: int,
    active: bool,
    web_punch_enabled: bool,
    outside_rule: str,
    quick_punch: bool | None = None,
    create_only: bool = False,
) -> GroupSaved:
    """Create or update a group with its punch rules, all or nothing; idempotent (an
    identical call writes nothing). ``create_only``: the "new group" form (a taken code is
    refused)."""
    write = org_groups.group_upsert(
        actor=actor,
        code=code,
        name=name,
        time_zone=time_zone,
        day_boundary_hour=day_boundary_hour,
        active=active,
        create_only=create_only,
    )
    row, punch_changed = punch_settings_save(
        actor=actor,
        group=write.group,
        web_punch_enabled=web_punch_enabled,
        outside_rule=outside_rule,
        quick_punch=quick_punch,
    )
    if write.day_rule_changed:
        members = Employee.objects.filter(attendance_group=write.group, active=True)
        _recompute_today(members.values_list("pk", flat=True), "group day rule")
    return GroupSaved(write.group, write.created, write.changed or punch_changed, row)


@transaction.atomic
def group_members_move(
    *,
    actor: Any,
    employee_ids: Iterable[int],
    to_group: AttendanceGroup | None,
    via: str,
) -> org_groups.MoveResult:
    """Move people into `to_group` (None: no group), audited per person; their days of
    today are recomputed after the commit."""
    result = org_groups.group_members_move(
        actor=actor, employee_ids=employee_ids, to_group=to_group, via=via
    )
    _recompute_today(result.employee_ids, "group membership")
    return result


@transaction.atomic
def group_members_import(
    *,
    actor: Any,
    group: AttendanceGroup,
    rows: Sequence[tuple[int, Sequence[Any]]],
    apply: bool,
) -> org_groups.ImportPlan:
    """The import of employee numbers into `group`: the dry run, or all-or-nothing apply."""
    plan = org_groups.group_members_import(actor=actor, group=group, rows=rows, apply=apply)
    if plan.applied is not None:
        _recompute_today(plan.applied.employee_ids, "group membership")
    return plan
