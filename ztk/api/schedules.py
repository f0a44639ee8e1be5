"""Rosters (排班) over the API, for integrators who plan shifts in their own HR system.

`PUT /rosters` sets many employee-dates at once through the same service as the roster
grid (``scheduling.services.roster_apply``): idempotent (a repeated PUT changes nothing and
writes no audit event), all or nothing (any refused item refuses them all: 422
`roster_invalid` with one entry per refused item, `index` into `items`). `GET /rosters`
lists the roster entries of a date range (at most 93 days). Same permission as the
employee sync.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from ztk.attendance.selectors import MAX_RANGE_DAYS, check_range
from ztk.core.errors import DomainError, NotFoundError
from ztk.org.models import AttendanceGroup, Employee
from ztk.scheduling import selectors, services
from ztk.scheduling.models import Shift
from ztk.scheduling.services import RosterCell

from .org import EMPLOYEE_NO_PATTERN, require_sync
from .pagination import Page, PageParams, paginate
from .schemas import CODE_PATTERN, ErrorOut

router = Router(tags=["schedules"])

MAX_ITEMS = 2000
UNKNOWN_EMPLOYEE = "unknown_employee"
UNKNOWN_SHIFT = "unknown_shift"


class RosterItemIn(Schema):
    employee_no: str = Field(..., pattern=EMPLOYEE_NO_PATTERN, examples=["1002"])
    date: date
    shift_code: str | None = Field(
        ...,
        pattern=CODE_PATTERN,
        description="the shift worked that day; null: a rest day (unless follow_pattern)",
    )
    follow_pattern: bool = Field(
        False,
        description="true (with shift_code null): remove the roster entry, the day follows "
        "the group's weekly pattern again",
    )


class RosterPutIn(Schema):
    items: list[RosterItemIn] = Field(
        ..., min_length=1, max_length=MAX_ITEMS, description=f"at most {MAX_ITEMS} items"
    )


class RosterPutOut(Schema):
    changed: int = Field(..., description="items that changed a day's roster")
    unchanged: int = Field(..., description="items that already held their value")


class RosterOut(Schema):
    employee_no: str
    date: date
    shift_code: str | None = Field(..., description="null: a rest day rostered")


class RosterPage(Page):
    items: list[RosterOut]


class RosterQuery(PageParams):
    from_: date = Field(..., alias="from", description="first day of the range (YYYY-MM-DD)")
    to: date = Field(
        ...,
        description=f"last day of the range, included; at most {MAX_RANGE_DAYS} days from "
        "`from` (a longer range: 422 `range_too_long`)",
    )
    group: str | None = Field(None, pattern=CODE_PATTERN, description="attendance group code")


def _error(index: int, code: str, message: str) -> dict[str, Any]:
    return {"index": index, "code": code, "message": message}


def _cells(items: list[RosterItemIn]) -> list[RosterCell]:
    """One cell per item, in order; unknown numbers and codes refuse them all."""
    numbers = {item.employee_no for item in items}
    people = dict(Employee.objects.filter(employee_no__in=numbers).values_list("employee_no", "pk"))
    codes = {item.shift_code for item in items if item.shift_code}
    shifts = {s.code: s for s in Shift.objects.filter(code__in=codes)}
    errors, cells = [], []
    for index, item in enumerate(items):
        employee_id = people.get(item.employee_no)
        if employee_id is None:
            errors.append(
                _error(
                    index,
                    UNKNOWN_EMPLOYEE,
                    _("No employee with number “%(no)s”.") % {"no": item.employee_no},
                )
            )
            continue
        if item.follow_pattern:
            if item.shift_code is not None:
                errors.append(
                    _error(
                        index,
                        services.VALIDATION_ERROR,
                        _("follow_pattern needs shift_code null."),
                    )
                )
                continue
            cells.append(RosterCell(employee_id, item.date, clear=True))
        elif item.shift_code is None:
            cells.append(RosterCell(employee_id, item.date, shift=None))
        elif item.shift_code in shifts:
            cells.append(RosterCell(employee_id, item.date, shift=shifts[item.shift_code]))
        else:
            errors.append(
                _error(
                    index,
                    UNKNOWN_SHIFT,
                    _("No shift with code “%(code)s”.") % {"code": item.shift_code},
                )
            )
    if errors:
        raise DomainError(
            services.ROSTER_INVALID,
            _("%(count)d item(s) refused; nothing was written.") % {"count": len(errors)},
            details=errors,
        )
    return cells


@router.put(
    "/rosters",
    response={200: RosterPutOut},
    summary="Set many roster days at once (idempotent, all or nothing)",
)
def roster_put(request, payload: RosterPutIn):
    require_sync(request)
    result, _changes = services.roster_apply(
        actor=request.auth, cells=_cells(payload.items), source="api"
    )
    return {"changed": len(result.changed), "unchanged": result.unchanged}


@router.get(
    "/rosters",
    response={200: RosterPage, 404: ErrorOut},
    summary="Roster entries of a date range (404: unknown group)",
)
def roster_list(request, q: Query[RosterQuery]):
    require_sync(request)
    check_range(q.from_, q.to)
    group_id = None
    if q.group:
        group_id = AttendanceGroup.objects.filter(code=q.group).values_list("pk", flat=True).first()
        if group_id is None:
            raise NotFoundError(_("No attendance group with this code."))
    rows = selectors.roster_entries(None, q.from_, q.to, group_id=group_id).order_by(
        "date", "employee__employee_no", "pk"
    )
    return paginate(
        request,
        rows,
        q,
        lambda e: {
            "employee_no": e.employee.employee_no,
            "date": e.date,
            "shift_code": e.shift.code if e.shift_id else None,
        },
    )
