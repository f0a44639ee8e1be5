"""Shifts (班次) for integrators who configure from their HR system (HR or system-admin
keys, like the employee sync).

`PUT /shifts/{code}` is a full create-or-update by code through the same service as the
settings page (`scheduling.services.shift_upsert`): 201 on create, 200 on update; a
repeated identical PUT changes nothing and writes no audit event. A refused definition
is 422 `invalid_shift` with `details` naming each field (`segments.0.end`, `arrive_until`,
…). There is no DELETE: a shift is retired with `active: false`. A change to a shift in
use recomputes the days planned with it (closed periods stay as they were).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from ztk.core.errors import NotFoundError
from ztk.scheduling import selectors, services
from ztk.scheduling.models import DAY_MINUTES, SegmentSpec, Shift, segment_offsets

from .org import require_sync
from .pagination import Page, PageParams, paginate
from .schemas import CODE_PATTERN, Text

router = Router(tags=["scheduling"])

# More than a shift may have, so that the service's own refusal ("1 to 3 segments") is
# what a client sees; the bound only keeps bodies small.
MAX_SEGMENTS_IN = 10


def ShiftCode():  # noqa: N802
    return Path(
        ..., pattern=CODE_PATTERN, description="shift code (letters, digits, _.-)", example="D9"
    )


def Minutes(default: int | None, description: str) -> Any:  # noqa: N802
    return Field(default, ge=0, le=DAY_MINUTES, description=description)


class SegmentIn(Schema):
    start: time = Field(..., description="check-in time, local (HH:MM)", examples=["09:00"])
    end: time = Field(
        ..., description="check-out time; at or before the start: the next day", examples=["18:00"]
    )
    in_earliest: int = Minutes(120, "the check-in window opens this many minutes before start")
    out_latest: int = Minutes(240, "the check-out window closes this many minutes after end")
    grace_in: int = Minutes(0, "late grace (minutes)")
    grace_out: int = Minutes(0, "early-leave grace (minutes)")
    late_as_missing: int | None = Minutes(120, "late beyond this counts as missing; null: never")
    early_as_missing: int | None = Minutes(120, "early beyond this counts as missing; null: never")
    serious_late: int = Minutes(30, "late beyond this is serious (严重迟到)")
    late_as_half_day_absent: int | None = Minutes(
        None, "late beyond this adds half a day of absence; null: never"
    )


class ShiftIn(Schema):
    name: str = Text(..., min_length=1, max_length=60)
    kind: Literal["fixed", "flexible"] = "fixed"
    segments: list[SegmentIn] = Field(
        ..., max_length=MAX_SEGMENTS_IN, description="1 to 3 segments in time order"
    )
    arrive_from: time | None = Field(None, description="flexible only: earliest on-time arrival")
    arrive_until: time | None = Field(None, description="flexible only: latest on-time arrival")
    required_minutes: int | None = Field(
        None, ge=1, le=DAY_MINUTES, description="flexible only: minutes to work after arriving"
    )
    active: bool = Field(True, description="false retires the shift (kept for history)")


class SegmentOut(Schema):
    start: time
    end: time
    in_earliest: int
    out_latest: int
    grace_in: int
    grace_out: int
    late_as_missing: int | None
    early_as_missing: int | None
    serious_late: int
    late_as_half_day_absent: int | None


class ShiftOut(Schema):
    code: str
    name: str
    kind: str
    segments: list[SegmentOut]
    arrive_from: time | None
    arrive_until: time | None
    required_minutes: int | None
    active: bool
    crosses_midnight: bool = Field(..., description="the last segment ends on the next day")
    updated_at: datetime

    @staticmethod
    def from_model(shift: Shift) -> dict[str, Any]:
        specs = [SegmentSpec.of(s) for s in shift.segments.all()]
        return {
            "code": shift.code,
            "name": shift.name,
            "kind": shift.kind,
            "segments": [spec.as_dict() for spec in specs],
            "arrive_from": shift.arrive_from,
            "arrive_until": shift.arrive_until,
            "required_minutes": shift.required_minutes,
            "active": shift.active,
            "crosses_midnight": bool(specs) and segment_offsets(specs)[-1][1] > DAY_MINUTES,
            "updated_at": shift.updated_at,
        }


class ShiftFilter(PageParams):
    active: bool | None = None


class ShiftPage(Page):
    items: list[ShiftOut]


@router.get("/shifts", response={200: ShiftPage}, summary="List shifts")
def shift_list(request: HttpRequest, filters: Query[ShiftFilter]):
    require_sync(request)
    return paginate(
        request, selectors.shift_list(active=filters.active), filters, ShiftOut.from_model
    )


@router.get("/shifts/{code}", response={200: ShiftOut}, summary="One shift")
def shift_get(request: HttpRequest, code: str = ShiftCode()):
    require_sync(request)
    shift = selectors.shift_get(code)
    if shift is None:
        raise NotFoundError()
    return ShiftOut.from_model(shift)


@router.put(
    "/shifts/{code}",
    response={200: ShiftOut, 201: ShiftOut},
    summary="Create or update a shift (idempotent; active=false retires it)",
)
def shift_put(request: HttpRequest, payload: ShiftIn, code: str = ShiftCode()):
    require_sync(request)
    shift, created, _changes = services.shift_upsert(
        actor=request.auth,  # type: ignore[attr-defined]
        code=code,
        name=payload.name,
        kind=payload.kind,
        segments=[SegmentSpec(**segment.model_dump()) for segment in payload.segments],
        arrive_from=payload.arrive_from,
        arrive_until=payload.arrive_until,
        required_minutes=payload.required_minutes,
        active=payload.active,
    )
    return Status(201 if created else 200, ShiftOut.from_model(selectors.shift_get(code) or shift))
