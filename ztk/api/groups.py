"""Attendance group sync for other HR systems (HR or system-admin keys, like the employee
sync in org.py).

`PUT /groups/{code}` is a full create-or-update by code with the group's punch rules: 201
on create, 200 on update, and a repeated identical PUT changes nothing and writes no audit
event. Members are not part of it: an employee's group is set by the employee sync
(`attendance_group`) or on the settings pages. There is no DELETE: a group is deactivated
(`active: false`), which is refused while it has active members.
"""

from __future__ import annotations

from typing import Literal

from django.db.models import Count, Q
from ninja import Field, Path, Query, Router, Schema, Status

from ztk.attendance.group_services import group_save
from ztk.core.errors import NotFoundError
from ztk.org.models import AttendanceGroup
from ztk.punches.models import OutsideGeofenceRule, PunchSettings
from ztk.punches.settings_services import punch_settings_of

from .org import require_sync
from .pagination import Page, PageParams, paginate
from .schemas import CODE_PATTERN, Text

router = Router(tags=["organisation"])


def GroupCode():  # noqa: N802
    return Path(
        ...,
        pattern=CODE_PATTERN,
        description="attendance group code (letters, digits, _.-)",
        example="STD",
    )


class GroupIn(Schema):
    name: str = Text(..., min_length=1, max_length=120)
    time_zone: str = Text(
        "Asia/Shanghai", min_length=1, max_length=64, description="an IANA zone name"
    )
    day_boundary_hour: int = Field(
        0,
        ge=0,
        le=23,
        description="a punch outside every window before this hour belongs to the previous day",
    )
    active: bool = Field(True, description="false deactivates (refused while it has members)")
    web_punch_enabled: bool = Field(True, description="members may punch on the web and by phone")
    outside_rule: Literal["refuse", "field"] = Field(
        "field",
        description="a web or phone punch outside every geofence: refused, or a field punch "
        "(外勤) with a photo",
    )
    quick_punch: bool = Field(
        False,
        description="极速打卡: opening the app inside a punch area during a check-in window "
        "punches at once (10 s to undo)",
    )


class GroupOut(Schema):
    code: str
    name: str
    time_zone: str
    day_boundary_hour: int
    active: bool
    web_punch_enabled: bool
    outside_rule: str
    quick_punch: bool
    member_count: int = Field(..., description="active employees in the group")

    @staticmethod
    def from_model(group: AttendanceGroup, punch: PunchSettings | None = None) -> dict:
        punch = punch or punch_settings_of(group)
        count = getattr(group, "member_count", None)
        if count is None:
            count = group.employees.filter(active=True).count()
        return {
            "code": group.code,
            "name": group.name,
            "time_zone": group.time_zone,
            "day_boundary_hour": group.day_boundary_hour,
            "active": group.active,
            "web_punch_enabled": punch.web_punch_enabled,
            "outside_rule": punch.outside_rule,
            "quick_punch": punch.quick_punch,
            "member_count": count,
        }


class GroupFilter(PageParams):
    active: bool | None = None


class GroupPage(Page):
    items: list[GroupOut]


def _groups(active: bool | None = None):
    qs = AttendanceGroup.objects.select_related("punch_settings").annotate(
        member_count=Count("employees", filter=Q(employees__active=True))
    )
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("code")


def _out(group: AttendanceGroup) -> dict:
    try:
        punch = group.punch_settings
    except PunchSettings.DoesNotExist:
        punch = PunchSettings(group=group, outside_rule=OutsideGeofenceRule.FIELD)
    return GroupOut.from_model(group, punch)


@router.get("/groups", response={200: GroupPage}, summary="List attendance groups")
def group_list(request, filters: Query[GroupFilter]):
    require_sync(request)
    return paginate(request, _groups(filters.active), filters, _out)


@router.get("/groups/{code}", response={200: GroupOut}, summary="One attendance group")
def group_get(request, code: str = GroupCode()):
    require_sync(request)
    group = _groups().filter(code=code).first()
    if group is None:
        raise NotFoundError()
    return _out(group)


@router.put(
    "/groups/{code}",
    response={200: GroupOut, 201: GroupOut},
    summary="Create or update an attendance group (idempotent; active=false deactivates)",
)
def group_put(request, payload: GroupIn, code: str = GroupCode()):
    require_sync(request)
    saved = group_save(
        actor=request.auth,
        code=code,
        name=payload.name,
        time_zone=payload.time_zone,
        day_boundary_hour=payload.day_boundary_hour,
        active=payload.active,
        web_punch_enabled=payload.web_punch_enabled,
        outside_rule=payload.outside_rule,
        quick_punch=payload.quick_punch,
    )
    return Status(
        201 if saved.created else 200, GroupOut.from_model(saved.group, saved.punch_settings)
    )
