"""One attendance group's reminders and channels: GET and PUT /settings/reminders/{code}.

The settings page's service (``notifications.reminder_services.reminder_settings_save``):
HR and system admins change (the auditor reads: GET 200, PUT 403), every field is checked
before anything is written, a refusal is 422 ``reminders_invalid`` naming its field in
``details.field``, a PUT that changes nothing writes no audit event. A PUT changes only
the fields it names; ``channels`` changes only the message kinds and channels it names.
"""

from __future__ import annotations

from typing import Any

from ninja import Field, Path, Router, Schema

from ztk.core.errors import NotFoundError, PermissionDeniedError
from ztk.notifications.channels import MessageKind, person_channels
from ztk.notifications.reminder_services import (
    reminder_settings_of,
    reminder_settings_save,
    reminder_settings_state,
)
from ztk.org.models import AttendanceGroup
from ztk.org.rules import can_change_settings, can_view_settings

from .schemas import CODE_PATTERN

router = Router(tags=["settings"])


def GroupCode():  # noqa: N802
    return Path(..., pattern=CODE_PATTERN, description="attendance group code", example="STD")


TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class ChannelOut(Schema):
    code: str = Field(..., description="e.g. email, webpush (and work apps when configured)")
    label: str


class ReminderSettingsOut(Schema):
    group: str
    punch_in: bool
    punch_in_minutes: int
    punch_out: bool
    missed_punch: bool
    cutoff: bool
    cutoff_days: int
    digest: bool
    digest_time: str
    quiet: bool
    quiet_start: str
    quiet_end: str
    channels: dict[str, dict[str, bool]] = Field(
        ...,
        description="message kind → channel → on; the inbox is always on. Kinds: "
        + ", ".join(MessageKind.values),
    )
    available_channels: list[ChannelOut]


class ReminderSettingsIn(Schema):
    punch_in: bool | None = None
    punch_in_minutes: int | None = Field(None, description="1–120")
    punch_out: bool | None = None
    missed_punch: bool | None = None
    cutoff: bool | None = None
    cutoff_days: int | None = Field(None, description="0–15")
    digest: bool | None = None
    digest_time: str | None = Field(None, pattern=TIME, description="HH:MM")
    quiet: bool | None = None
    quiet_start: str | None = Field(None, pattern=TIME)
    quiet_end: str | None = Field(None, pattern=TIME)
    channels: dict[str, dict[str, bool]] | None = Field(
        None, description="only the kinds and channels named change"
    )


def _group(code: str) -> AttendanceGroup:
    group = AttendanceGroup.objects.filter(code=code).first()
    if group is None:
        raise NotFoundError()
    return group


def _out(group: AttendanceGroup) -> dict[str, Any]:
    state = reminder_settings_state(reminder_settings_of(group))
    return {
        "group": group.code,
        **state,
        "available_channels": [{"code": c.code, "label": str(c.label)} for c in person_channels()],
    }


@router.get(
    "/settings/reminders/{code}",
    response={200: ReminderSettingsOut},
    summary="One attendance group's reminders and the channels of each kind of message",
)
def reminder_settings_get(request, code: str = GroupCode()):
    if not can_view_settings(request.auth):
        raise PermissionDeniedError()
    return _out(_group(code))


@router.put(
    "/settings/reminders/{code}",
    response={200: ReminderSettingsOut},
    summary="Change an attendance group's reminders and channels (only the fields given)",
)
def reminder_settings_put(request, payload: ReminderSettingsIn, code: str = GroupCode()):
    if not can_change_settings(request.auth):
        raise PermissionDeniedError()
    group = _group(code)
    fields = payload.dict(exclude_none=True)
    reminder_settings_save(actor=request.auth, group=group, **fields)
    return _out(group)
