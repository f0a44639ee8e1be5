"""Attendance groups (考勤组): create, edit, and who belongs to them.

Every write checks `org.manage_organisation` (HR or system admin; `actor=None` is the
command line), runs in one transaction and records its audit event inside it. A refusal is
a DomainError with a stable code and, in ``details["field"]``, the input it is about, so a
page can show it next to that field; nothing is written.

What a group's punch rules and terminals are is owned by the apps above (punches, devices);
``ztk.attendance.group_services`` puts a group's settings together and recomputes the days
a change of zone, day boundary or membership touches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.parse import parse_int
from ztk.core.text import clean_text

from . import zones
from .models import AttendanceGroup, Department, Employee, code_validator

PERMISSION = "org.manage_organisation"

# Refusal codes: stable, returned by the API as `code`; tests import them.
DUPLICATE_CODE = "duplicate_group_code"
BAD_CODE = "bad_group_code"
BAD_NAME = "bad_group_name"
BAD_TIME_ZONE = "bad_time_zone"
BAD_DAY_BOUNDARY = "bad_day_boundary"
GROUP_HAS_MEMBERS = "group_has_members"
GROUP_INACTIVE = "group_inactive"
UNKNOWN_GROUP = "unknown_attendance_group"
NOTHING_TO_MOVE = "nothing_to_move"
IMPORT_HAS_ERRORS = "import_has_errors"

NAME_MAX = 120
BOUNDARY_RANGE = (0, 23)
IMPORT_MAX_ROWS = 5000

# What an import row can be wrong about (per line; shown with the line number).
LINE_BAD_NUMBER = "bad_number"
LINE_UNKNOWN = "unknown_employee"
LINE_INACTIVE = "inactive_employee"
LINE_REPEATED = "repeated"

LINE_MESSAGES = {
    LINE_BAD_NUMBER: _("“%(value)s” is not an employee number (1–24 letters or digits)."),
    LINE_UNKNOWN: _("No employee has the number “%(value)s”."),
    LINE_INACTIVE: _("%(value)s has left (not active); not moved."),
    LINE_REPEATED: _("%(value)s is already listed on line %(first)d."),
}
# A first row whose first cell is one of these is a header, not an employee number.
HEADER_WORDS = {"employee_no", "employee", "no", "number", "工号", "员工编号", "编号", "员工号"}


def _require(actor: Any) -> None:
    if actor is not None and not actor.has_perm(PERMISSION):
        raise PermissionDeniedError()


def group_state(group: AttendanceGroup) -> dict[str, Any]:
    """What the pages and the sync API set on a group: compared for idempotency, audited."""
    return {
        "code": group.code,
        "name": group.name,
        "time_zone": group.time_zone,
        "day_boundary_hour": group.day_boundary_hour,
        "active": group.active,
    }


@dataclass(frozen=True)
class GroupWrite:
    """The outcome of a create or update: the group, and its state before (None: created)."""

    group: AttendanceGroup
    created: bool
    before: dict[str, Any] | None
    after: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def day_rule_changed(self) -> bool:
        """Did the zone or the day boundary change (which day a punch belongs to)?"""
        if self.before is None:
            return False
        return any(
            self.before[key] != self.after[key] for key in ("time_zone", "day_boundary_hour")
        )


def _refuse(code: str, message: Any, field_name: str, /, **params: Any) -> DomainError:
    return DomainError(code, message % params if params else message, details={"field": field_name})


def check_can_join(group: AttendanceGroup, *, field_name: str) -> None:
    """Nobody joins an inactive group (it is left out of the month close, so its people
    would be too): the pages, the import and the employee sync all ask here."""
    if not group.active:
        raise _refuse(
            GROUP_INACTIVE,
            _("%(name)s is not active: nobody can be added to it."),
            field_name,
            name=group.name,
        )


def check_code(code: Any) -> str:
    text = clean_text(code, field="code", label=_("Code"))
    try:
        code_validator(text)
        if not any(c.isalnum() for c in text):  # "." and ".." would be lost from a URL path
            raise ValidationError("no letter or digit")
    except ValidationError:
        raise _refuse(
            BAD_CODE,
            _("Code: use 1–32 letters, digits, “_”, “.” or “-”, with a letter or digit."),
            "code",
        ) from None
    return text


def check_time_zone(value: Any) -> str:
    text = clean_text(value, field="time_zone", label=_("Time zone"), max_length=64)
    if not zones.usable(text):
        raise _refuse(
            BAD_TIME_ZONE,
            _("“%(value)s” is not a time zone name such as Asia/Shanghai."),
            "time_zone",
            value=text or "—",
        )
    return text


def check_day_boundary(value: Any) -> int:
    low, high = BOUNDARY_RANGE
    hour = parse_int(value, minimum=low, maximum=high)
    if hour is None:
        raise _refuse(
            BAD_DAY_BOUNDARY,
            _("The day boundary is an hour from %(low)d to %(high)d."),
            "day_boundary_hour",
            low=low,
            high=high,
        )
    return hour


@transaction.atomic
def group_upsert(
    *,
    actor: Any,
    code: str,
    name: str,
    time_zone: str,
    day_boundary_hour: int,
    active: bool = True,
    create_only: bool = False,
) -> GroupWrite:
    """Create or update the group with this code; idempotent (an identical call writes
    nothing). ``create_only`` refuses a code that is taken (the "new group" form); the code
    never changes once created. Deactivating a group that still has active members is
    refused: an inactive group is left out of the month close, so its people would be too.
    """
    _require(actor)
    code = check_code(code)
    name = clean_text(name, field="name", label=_("Name"), max_length=NAME_MAX)
    if not name:
        raise _refuse(BAD_NAME, _("Name: give the group a name."), "name")
    zone = check_time_zone(time_zone)
    hour = check_day_boundary(day_boundary_hour)
    group = AttendanceGroup.objects.select_for_update().filter(code=code).first()
    created = group is None
    if not created and create_only:
        raise _refuse(
            DUPLICATE_CODE, _("A group with the code “%(code)s” exists already."), "code", code=code
        )
    before = None if group is None else group_state(group)
    if group is None:
        group = AttendanceGroup(code=code)
    if (
        not active
        and group.pk is not None
        and group.active
        and Employee.objects.filter(attendance_group=group, active=True).exists()
    ):
        raise _refuse(
            GROUP_HAS_MEMBERS,
            _(
                "%(name)s still has active members: move them to another group before "
                "deactivating it (an inactive group is left out of the month close)."
            ),
            "active",
            name=group.name,
        )
    group.name, group.time_zone, group.day_boundary_hour = name, zone, hour
    group.active = bool(active)
    after = group_state(group)
    if before == after:
        return GroupWrite(group, False, before, after)
    try:
        with transaction.atomic():  # a savepoint: a concurrent create of the same code
            group.save()
    except IntegrityError:
        raise DomainError(
            DUPLICATE_CODE,
            _("A group with the code “%(code)s” exists already.") % {"code": code},
            status=409,
            details={"field": "code"},
        ) from None
    record(
        "org.group.create" if created else "org.group.update",
        obj=group,
        actor=actor,
        before=before,
        after=after,
    )
    return GroupWrite(group, created, before, after)


# --- membership -----------------------------------------------------------------------------


@dataclass
class MoveResult:
    """Who was moved (with the code of the group they left; None: none), who was there."""

    moved: list[tuple[Employee, str | None]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def employee_ids(self) -> frozenset[int]:
        return frozenset(e.pk for e, _old in self.moved)


@transaction.atomic
def group_members_move(
    *,
    actor: Any,
    employee_ids: Iterable[int],
    to_group: AttendanceGroup | None,
    via: str,
) -> MoveResult:
    """Put these employees into `to_group` (None: into no group). One audit event per
    person who moves (``org.employee.group_change``: from which group to which, and `via`
    — department, person, import, remove); people already there are counted, not written.
    """
    _require(actor)
    ids = sorted(set(employee_ids))
    if not ids:
        raise DomainError(NOTHING_TO_MOVE, _("Nobody to move: choose at least one person."))
    if to_group is not None:
        to_group = AttendanceGroup.objects.select_for_update().get(pk=to_group.pk)
        check_can_join(to_group, field_name="group")
    people = list(
        Employee.objects.select_for_update(of=("self",))
        .select_related("attendance_group")
        .filter(pk__in=ids)
        .order_by("employee_no")
    )
    result = MoveResult()
    target = to_group.code if to_group is not None else None
    for employee in people:
        old = employee.attendance_group.code if employee.attendance_group_id else None
        if employee.attendance_group_id == (to_group.pk if to_group else None):
            result.unchanged += 1
            continue
        employee.attendance_group = to_group
        employee.save(update_fields=["attendance_group"])
        record(
            "org.employee.group_change",
            obj=employee,
            actor=actor,
            before={"employee_no": employee.employee_no, "attendance_group": old},
            after={"employee_no": employee.employee_no, "attendance_group": target},
            extra={"via": via},
        )
        result.moved.append((employee, old))
    return result


def department_tree_ids(department: Department) -> set[int]:
    """The department and all its sub-departments (a cycle in stored data cannot loop)."""
    found = {department.pk}
    frontier = {department.pk}
    while frontier:
        children = set(
            Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = children - found
        found |= frontier
    return found


def department_member_ids(department: Department) -> list[int]:
    """Active employees of the department and its sub-departments."""
    return list(
        Employee.objects.filter(
            department_id__in=department_tree_ids(department), active=True
        ).values_list("pk", flat=True)
    )


# --- import of employee numbers -------------------------------------------------------------


@dataclass
class ImportLine:
    line: int
    value: str
    employee: Employee | None = None
    current: str | None = None  # the code of the group the employee is in now
    target: str | None = None  # the code of the group imported into
    error: str = ""

    @property
    def moves(self) -> bool:
        return self.employee is not None and not self.error and not self.stays

    @property
    def stays(self) -> bool:
        return self.employee is not None and not self.error and self.current == self.target


@dataclass
class ImportPlan:
    group: AttendanceGroup
    lines: list[ImportLine]
    applied: MoveResult | None = None

    @property
    def errors(self) -> list[ImportLine]:
        return [line for line in self.lines if line.error]

    @property
    def moving(self) -> list[ImportLine]:
        return [line for line in self.lines if line.moves]

    @property
    def staying(self) -> list[ImportLine]:
        return [line for line in self.lines if line.stays]


def _first_cell(cells: Sequence[Any]) -> str:
    value = cells[0] if cells else ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's 1001.0
    return "" if value is None else str(value).strip()


def import_plan(group: AttendanceGroup, rows: Sequence[tuple[int, Sequence[Any]]]) -> ImportPlan:
    """What importing these rows (line number, cells; the employee number in the first
    column, an optional header row) into `group` would do, line by line. Reads only."""
    lines: list[ImportLine] = []
    for index, (number, cells) in enumerate(rows):
        value = _first_cell(cells)
        if index == 0 and value.lower() in HEADER_WORDS:
            continue
        lines.append(ImportLine(number, value[:40], target=group.code))
    numbers = [line.value for line in lines]
    known = {
        e.employee_no: e
        for e in Employee.objects.select_related("attendance_group").filter(employee_no__in=numbers)
    }
    first_line: dict[str, int] = {}
    pattern = Employee._meta.get_field("employee_no").validators[0]
    for line in lines:
        try:
            pattern(line.value)
        except ValidationError:
            line.error = str(LINE_MESSAGES[LINE_BAD_NUMBER] % {"value": line.value})
            continue
        if line.value in first_line:
            line.error = str(
                LINE_MESSAGES[LINE_REPEATED]
                % {"value": line.value, "first": first_line[line.value]}
            )
            continue
        first_line[line.value] = line.line
        employee = known.get(line.value)
        if employee is None:
            line.error = str(LINE_MESSAGES[LINE_UNKNOWN] % {"value": line.value})
            continue
        line.employee = employee
        line.current = employee.attendance_group.code if employee.attendance_group_id else None
        if not employee.active:
            line.error = str(LINE_MESSAGES[LINE_INACTIVE] % {"value": line.value})
    return ImportPlan(group, lines)


@transaction.atomic
def group_members_import(
    *,
    actor: Any,
    group: AttendanceGroup,
    rows: Sequence[tuple[int, Sequence[Any]]],
    apply: bool,
) -> ImportPlan:
    """The dry run (``apply=False``: the plan, nothing written) or the import itself: all
    or nothing — any line with an error refuses the whole import (IMPORT_HAS_ERRORS, the
    lines in the details)."""
    _require(actor)
    plan = import_plan(group, rows)
    if not plan.lines:
        raise DomainError(NOTHING_TO_MOVE, _("The file lists no employee number."))
    if not apply:
        return plan
    if plan.errors:
        raise DomainError(
            IMPORT_HAS_ERRORS,
            _("%(count)d lines have errors: correct the file and try again; nothing was changed.")
            % {"count": len(plan.errors)},
            details={"lines": [{"line": x.line, "error": x.error} for x in plan.errors]},
        )
    ids = [line.employee.pk for line in plan.lines if line.employee is not None]
    plan.applied = group_members_move(actor=actor, employee_ids=ids, to_group=group, via="import")
    return plan
