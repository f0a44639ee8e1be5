"""Terminals: list them and approve new ones (HR or system-admin only)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Path, Query, Router, Schema

from ztk.core.errors import PermissionDeniedError
from ztk.devices import selectors, services
from ztk.devices.models import SERIAL_PATTERN, Device, DeviceStatus

from .pagination import Page, PageParams, paginate
from .schemas import ErrorOut, Text

router = Router(tags=["terminals"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def require_manager(request) -> None:
    if not request.auth.has_perm(services.PERMISSION):
        raise PermissionDeniedError()


class DeviceOut(Schema):
    serial: str
    name: str
    status: str = Field(..., description="pending | approved | disabled")
    attendance_group: str | None = Field(..., description="attendance group code")
    time_zone: str = Field(..., description="the zone the terminal's clock is read in")
    ip: str
    firmware: str
    push_version: str
    user_count: int | None
    fp_count: int | None
    log_count: int | None
    last_seen: datetime | None
    last_upload: datetime | None
    held_punches: int = Field(..., description="punches held for approval or an unknown PIN")

    @staticmethod
    def from_model(d: Device, held: int | None = None) -> dict:
        return {
            "serial": d.serial,
            "name": d.name,
            "status": d.status,
            "attendance_group": d.attendance_group.code if d.attendance_group else None,
            "time_zone": d.time_zone_name,
            "ip": d.ip,
            "firmware": d.firmware,
            "push_version": d.push_version,
            "user_count": d.user_count,
            "fp_count": d.fp_count,
            "log_count": d.log_count,
            "last_seen": d.last_seen,
            "last_upload": d.last_upload,
            "held_punches": held if held is not None else getattr(d, "held_count", 0),
        }


class DeviceFilter(PageParams):
    status: DeviceStatus | None = None


class ApproveIn(Schema):
    name: str | None = Text(None, max_length=120)
    attendance_group: str | None = Text(None, max_length=32, description="group code")
    time_zone: str | None = Text(None, max_length=64, description="e.g. Asia/Shanghai")


class ReleasedOut(Schema):
    recorded: int = Field(..., description="held punches stored now")
    duplicate: int = Field(..., description="held punches that were already stored")
    still_held: int = Field(..., description="held on: their PIN matches no employee")
    refused: int


class ApproveOut(Schema):
    device: DeviceOut
    released: ReleasedOut


class DevicePage(Page):
    items: list[DeviceOut]


@router.get("/devices", response={200: DevicePage, **ERRORS}, summary="List terminals")
def list_devices(request, filters: Query[DeviceFilter]):
    require_manager(request)
    devices = selectors.device_list(status=filters.status.value if filters.status else None)
    return paginate(request, devices, filters, DeviceOut.from_model)


@router.post(
    "/devices/{serial}/approve",
    response={200: ApproveOut, **ERRORS},
    summary="Approve a terminal; its held punches count from now on (idempotent)",
)
def approve_device(
    request,
    serial: str = Path(..., pattern=SERIAL_PATTERN, description="the terminal's serial number"),
    payload: ApproveIn | None = None,
):
    require_manager(request)
    payload = payload or ApproveIn()
    result = services.device_approve(
        actor=request.auth,
        serial=serial,
        name=payload.name,
        attendance_group=payload.attendance_group,
        time_zone=payload.time_zone,
    )
    held = selectors.held_count_for(result.device)
    return {
        "device": DeviceOut.from_model(result.device, held),
        "released": result.released.as_dict(),
    }
