"""Punch areas (geofences) for integrators who configure from their HR system.

Same permission as the employee sync (HR or system-admin keys). ``PUT`` is a full
create-or-update by code: 201 on create, 200 on update, and a repeated identical PUT
changes nothing and writes no audit event. There is no DELETE: a fence that should stop
counting is set ``active: false`` (it stays on record).
"""

from __future__ import annotations

from typing import Annotated

from ninja import Field, Path, Query, Router, Schema, Status

from ztk.core.errors import NotFoundError
from ztk.punches import geofence_selectors as selectors
from ztk.punches import geofence_services as services
from ztk.punches.models import RADIUS_MAX, RADIUS_MIN, Geofence

from .org import require_sync
from .pagination import Page, PageParams, paginate
from .schemas import CODE_PATTERN, Text

router = Router(tags=["settings"])


def FenceCode():  # noqa: N802
    return Path(
        ...,
        pattern=CODE_PATTERN,
        description="punch area code (letters, digits, _.-)",
        example="HQ",
    )


class GeofenceIn(Schema):
    name: str = Text(..., min_length=1, max_length=services.NAME_MAX)
    latitude: float = Field(..., ge=-90, le=90, description="WGS-84 degrees")
    longitude: float = Field(..., ge=-180, le=180, description="WGS-84 degrees")
    radius_m: int = Field(200, ge=RADIUS_MIN, le=RADIUS_MAX, description="metres")
    active: bool = Field(True, description="false: kept on record, counts for no punch")
    groups: list[Annotated[str, Field(pattern=CODE_PATTERN)]] = Field(
        default_factory=list,
        max_length=1000,
        description="codes of the attendance groups whose punches are checked against it "
        "(replaces the list)",
    )


class GeofenceOut(Schema):
    code: str
    name: str
    latitude: float
    longitude: float
    radius_m: int
    active: bool
    groups: list[str] = Field(..., description="attendance group codes")

    @staticmethod
    def from_model(fence: Geofence) -> dict:
        return {
            "code": fence.code,
            "name": fence.name,
            "latitude": fence.latitude,
            "longitude": fence.longitude,
            "radius_m": fence.radius_m,
            "active": fence.active,
            "groups": sorted(g.code for g in fence.groups.all()),
        }


class GeofencePage(Page):
    items: list[GeofenceOut]


@router.get("/geofences", response={200: GeofencePage}, summary="List punch areas")
def geofence_list(request, params: Query[PageParams]):
    require_sync(request)
    return paginate(request, selectors.geofence_list(), params, GeofenceOut.from_model)


@router.get("/geofences/{code}", response={200: GeofenceOut}, summary="One punch area")
def geofence_get(request, code: str = FenceCode()):
    require_sync(request)
    fence = selectors.geofence_get(code)
    if fence is None:
        raise NotFoundError()
    return GeofenceOut.from_model(fence)


@router.put(
    "/geofences/{code}",
    response={200: GeofenceOut, 201: GeofenceOut},
    summary="Create or update a punch area (idempotent; active=false retires it)",
)
def geofence_put(request, payload: GeofenceIn, code: str = FenceCode()):
    require_sync(request)
    fence, created = services.geofence_put(
        actor=request.auth,
        code=code,
        data=services.FenceInput(
            name=payload.name,
            latitude=payload.latitude,
            longitude=payload.longitude,
            radius_m=payload.radius_m,
            active=payload.active,
            group_codes=tuple(payload.groups),
        ),
    )
    saved = selectors.geofence_get(fence.code) or fence  # with its groups prefetched
    return Status(201 if created else 200, GeofenceOut.from_model(saved))
