"""Writes of the reminder settings (docs/reminders.md): a group's switches (HR and system
admins; transactional, audited) and a person's own opt-outs.

The settings page (/settings/reminders/) and any API call these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.org.models import AttendanceGroup
from ztk.org.rules import can_change_settings

from .channels import channel_matrix, clean_matrix
from .models import ReminderKind, ReminderOptOut, ReminderSettings

REMINDERS_INVALID = "reminders_invalid"
SETTINGS_FIELDS = (
    "punch_in",
    "punch_in_minutes",
    "punch_out",
    "missed_punch",
    "cutoff",
    "cutoff_days",
    "digest",
    "digest_time",
    "quiet",
    "quiet_start",
    "quiet_end",
    "channels",
)
_BOOLS = ("punch_in", "punch_out", "missed_punch", "cutoff", "digest", "quiet")
_RANGES = {"punch_in_minutes": (1, 120), "cutoff_days": (0, 15)}
_TIMES = ("digest_time", "quiet_start", "quiet_end")


def reminder_settings_of(group: AttendanceGroup) -> ReminderSettings:
    """The group's saved reminder settings, or the defaults (unsaved) when it has none."""
    found = ReminderSettings.objects.filter(group=group).first() if group.pk else None
    return found if found is not None else ReminderSettings(group=group)


def reminder_settings_state(row: ReminderSettings) -> dict[str, Any]:
    """The settings as plain values; ``channels`` as every message kind × every channel to
    a person, on or off (the defaults filled in)."""
    state = {
        name: (value.strftime("%H:%M") if isinstance(value, time) else value)
        for name in SETTINGS_FIELDS
        for value in [getattr(row, name)]
    }
    state["channels"] = channel_matrix(row.channels)
    return state


def _channels(value: Any, current: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """`value` merged over the current choice: only the kinds and channels named change."""
    cleaned = clean_matrix(value)
    if cleaned is None:
        raise _refuse(
            "channels",
            _("Choose channels as {message kind: {channel: true or false}} with known names."),
        )
    merged = {k: dict(v) for k, v in (current or {}).items() if isinstance(v, dict)}
    for kind, row in cleaned.items():
        merged.setdefault(kind, {}).update(row)
    return merged


def _refuse(field: str, message: Any) -> DomainError:
    return DomainError(REMINDERS_INVALID, message, details={"field": field})


def _number(field: str, value: Any) -> int:
    low, high = _RANGES[field]
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise _refuse(
            field, _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        )
    return number


def _time(field: str, value: Any) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        parsed = time.fromisoformat(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None or len(str(value).strip()) != 5:
        raise _refuse(field, _("Enter a time as HH:MM, e.g. 09:00."))
    return parsed


@transaction.atomic
def reminder_settings_save(
    *, actor: Any, group: AttendanceGroup, **fields: Any
) -> tuple[ReminderSettings, bool]:
    """Set the group's reminders; returns the row and whether anything changed. Every field
    is checked before anything is written; a refusal names its field."""
    if not can_change_settings(actor):
        raise PermissionDeniedError()
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"unknown reminder fields: {sorted(unknown)}")
    row = ReminderSettings.objects.select_for_update().filter(group=group).first()
    before = reminder_settings_state(row) if row is not None else None
    if row is None:
        row = ReminderSettings(group=group)
    for name, value in fields.items():
        if name in _BOOLS:
            value = bool(value)
        elif name == "channels":
            value = _channels(value, row.channels)
        elif name in _RANGES:
            value = _number(name, value)
        else:
            value = _time(name, value)
        setattr(row, name, value)
    after = reminder_settings_state(row)
    if before == after:
        return row, False
    row.save()
    record(
        "notifications.reminders.update"
        if before is not None
        else "notifications.reminders.create",
        obj=row,
        actor=actor,
        before=None if before is None else {"group": group.code, **before},
        after={"group": group.code, **after},
    )
    return row, True


def reminder_opt_outs(user: Any) -> set[str]:
    """The reminder kinds `user` switched off."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(ReminderOptOut.objects.filter(user_id=user.pk).values_list("kind", flat=True))


@transaction.atomic
def reminder_opt_outs_set(*, user: Any, off: Iterable[str]) -> set[str]:
    """A person's own choice: exactly the kinds in `off` are switched off (unknown kinds
    are refused). Returns the kinds now off."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDeniedError()
    wanted = {str(k) for k in off}
    if wanted - set(ReminderKind.values):
        raise DomainError(REMINDERS_INVALID, _("Unknown kind of reminder."))
    current = reminder_opt_outs(user)
    ReminderOptOut.objects.filter(user_id=user.pk, kind__in=current - wanted).delete()
    ReminderOptOut.objects.bulk_create(
        [ReminderOptOut(user_id=user.pk, kind=k) for k in sorted(wanted - current)]
    )
    if wanted != current:
        record(
            "notifications.reminders.opt_out",
            object_type="auth.user",
            object_id=user.pk,
            actor=user,
            before={"off": sorted(current)},
            after={"off": sorted(wanted)},
        )
    return wanted
