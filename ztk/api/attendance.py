"""Attendance days and punches over the API."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from ztk.attendance import selectors
from ztk.attendance.explain import render_notes
from ztk.attendance.quick_punch import quick_punch
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.hrdesk.manual import manual_punch_add
from ztk.org.rules import can_use_hr_desk
from ztk.org.selectors import employee_for
from ztk.punches.services import punch_undo, web_punch

from .pagination import Page, PageParams, paginate
from .schemas import ErrorOut, Multiline, Text

router = Router(tags=["attendance"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class RangeQuery(PageParams):
    employee: str | None = Text(
        None, max_length=24, description="employee number; default: the caller"
    )
    from_: date = Field(..., alias="from", description="first day of the range (YYYY-MM-DD)")
    to: date = Field(
        ...,
        description=f"last day of the range, included; at most {selectors.MAX_RANGE_DAYS} "
        "days from `from` (a longer range: 422 `range_too_long`)",
    )


class SlotOut(Schema):
    key: str
    kind: str
    expected: datetime | None
    window_start: datetime | None
    window_end: datetime | None
    status: str
    minutes: int
    punch_id: int | None
    punch_at: datetime | None
    punch_source: str | None


class DayOut(Schema):
    date: date
    employee: str
    plan: str
    shift: str
    status: str
    provisional: bool
    worked_minutes: int
    late_minutes: int
    early_minutes: int
    absent_days: float
    slots: list[SlotOut]
    explanation: list[str]


class PunchOut(Schema):
    id: int
    employee: str
    at: datetime
    source: str
    device_sn: str
    verify_mode: int | None
    punch_state: int | None
    latitude: float | None
    longitude: float | None
    inside_geofence: bool | None
    field_punch: bool
    remark: str
    voided: bool


class DayPage(Page):
    items: list[DayOut]


class PunchPage(Page):
    items: list[PunchOut]


def day_out(row, employee_no: str) -> dict:
    segments = len({s.get("segment") for s in row.slots}) or 1
    return {
        "date": row.day,
        "employee": employee_no,
        "plan": row.kind,
        "shift": row.shift_code,
        "status": row.status,
        "provisional": row.provisional and not row.finalised,
        "worked_minutes": row.worked_minutes,
        "late_minutes": row.late_minutes,
        "early_minutes": row.early_minutes,
        "absent_days": float(row.absent_days),
        "slots": row.slots,
        "explanation": render_notes(row.notes, segments),
    }


@router.get(
    "/attendance/days",
    response={200: DayPage, **ERRORS},
    summary="Daily results with slots, punches and explanation",
)
def list_days(request, q: Query[RangeQuery]):
    employee = employee_for(request.auth, q.employee)
    selectors.check_range(q.from_, q.to)
    rows = selectors.attendance_days(employee=employee, start=q.from_, end=q.to)
    return paginate(request, rows, q, lambda row: day_out(row, employee.employee_no))


def punch_out(p, employee_no: str) -> dict:
    return {
        "id": p.pk,
        "employee": employee_no,
        "at": p.at,
        "source": p.source,
        "device_sn": p.device_sn,
        "verify_mode": p.verify_mode,
        "punch_state": p.punch_state,
        "latitude": p.latitude,
        "longitude": p.longitude,
        "inside_geofence": p.inside_geofence,
        "field_punch": p.field_punch,
        "remark": p.remark,
        "voided": hasattr(p, "void"),
    }


@router.get("/punches", response={200: PunchPage, **ERRORS}, summary="Raw punches")
def list_punches(request, q: Query[RangeQuery]):
    employee = employee_for(request.auth, q.employee)
    selectors.check_range(q.from_, q.to)
    rows = selectors.punches_between(employee=employee, start=q.from_, end=q.to)
    return paginate(request, rows, q, lambda p: punch_out(p, employee.employee_no))


class PunchIn(Schema):
    employee: str | None = Text(
        None, max_length=24, description="HR integration keys: the employee number to punch for"
    )
    at: datetime | None = Field(None, description="HR integration keys: the punch time (aware)")
    day: date | None = Field(
        None,
        alias="date",
        description="HR: the attendance date the punch is for; default: the date whose "
        "punch window contains `at` (a night shift's check-out belongs to the day before)",
    )
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    channel: str = Field("web", pattern="^(web|mobile)$")
    quick: bool = Field(
        False,
        description="极速打卡: the app punches by itself on opening; refused unless the group "
        "allows it, a check-in window is open and the position is inside a punch area",
    )
    remark: str = Multiline(
        "",
        max_length=500,
        description="HR: required (at least 2 characters), as on the manual-add page",
    )


class PunchResult(Schema):
    duplicate: bool
    punch: PunchOut | None
    message: str


@router.post(
    "/punches",
    response={200: PunchResult, 201: PunchResult, **ERRORS},
    summary="Punch now (the caller) or, with HR rights, for an employee at a given time",
    description="With `employee` and `at`: HR's manual add, the same service and refusals "
    "as the manual-add page (remark required, never one's own attendance, no closed "
    "period, the time must fill an empty slot of that day).",
)
def post_punch(request, payload: PunchIn):
    user = request.auth
    if payload.employee or payload.at:
        if not can_use_hr_desk(user):
            raise PermissionDeniedError()
        if not payload.employee or not payload.at:
            raise DomainError("validation_error", _("Give both the employee and the time."))
        employee = employee_for(user, payload.employee)
        punches = manual_punch_add(
            actor=user,
            employee=employee,
            day=payload.day,
            times=[payload.at],
            remark=payload.remark,
        )
        return 201, {
            "duplicate": False,
            "punch": punch_out(punches[0], employee.employee_no),
            "message": _("Punch recorded."),
        }
    if payload.quick:
        outcome = quick_punch(
            actor=user,
            latitude=payload.latitude,
            longitude=payload.longitude,
            accuracy_m=payload.accuracy_m,
            channel=payload.channel,
            now=timezone.now(),
        )
    else:
        outcome = web_punch(
            actor=user,
            latitude=payload.latitude,
            longitude=payload.longitude,
            accuracy_m=payload.accuracy_m,
            channel=payload.channel,
            remark=payload.remark,
            now=timezone.now(),
        )
    employee_no = user.employee.employee_no
    body = {
        "duplicate": outcome.duplicate,
        "punch": punch_out(outcome.punch, employee_no) if outcome.punch else None,
        "message": _("You already punched less than a minute ago.")
        if outcome.duplicate
        else _("Punch recorded."),
    }
    return (200 if outcome.duplicate else 201), body


class UndoResult(Schema):
    voided: bool
    message: str


@router.post(
    "/punches/{punch_id}/undo",
    response={200: UndoResult, **ERRORS},
    summary="Undo my punch within seconds of making it (极速打卡)",
    description="Voids the caller's own web or phone punch made at most 10 seconds ago "
    "(plus a little for the connection); the punch stays, voided and audited.",
)
def undo_punch(request, punch_id: int = Path(..., ge=1, le=2**62)):
    punch_undo(actor=request.auth, punch_id=punch_id, now=timezone.now())
    return 200, {"voided": True, "message": _("Punch undone.")}
