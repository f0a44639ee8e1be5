"""Attendance days and punches over the API."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from ztk.attendance import selectors
from ztk.attendance.explain import render_notes
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.hrdesk.manual import manual_punch_add
from ztk.org.rules import can_use_hr_desk
from ztk.org.selectors import employee_for
from ztk.punches.services import web_punch

from .schemas import ErrorOut, Multiline, Text

router = Router(tags=["attendance"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class RangeQuery(Schema):
    employee: str | None = Text(
        None, max_length=24, description="employee number; default: the caller"
    )
    from_: date = Field(..., alias="from")
    to: date


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


@router.get(
    "/attendance/days",
    response={200: list[DayOut], **ERRORS},
    summary="Daily results with slots, punches and explanation",
)
def list_days(request, q: Query[RangeQuery]):
    employee = employee_for(request.auth, q.employee)
    selectors.check_range(q.from_, q.to)
    rows = selectors.attendance_days(employee=employee, start=q.from_, end=q.to)
    out = []
    for row in rows:
        segments = len({s.get("segment") for s in row.slots}) or 1
        out.append(
            {
                "date": row.day,
                "employee": employee.employee_no,
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
        )
    return out


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


@router.get("/punches", response={200: list[PunchOut], **ERRORS}, summary="Raw punches")
def list_punches(request, q: Query[RangeQuery]):
    employee = employee_for(request.auth, q.employee)
    selectors.check_range(q.from_, q.to)
    rows = selectors.punches_between(employee=employee, start=q.from_, end=q.to)
    return [punch_out(p, employee.employee_no) for p in rows]


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
