"""A group's punch rules (PunchSettings): may its people punch on the web or a phone, and
what happens to a punch outside every geofence (refused, or a field punch 外勤).

Permission-checked (`org.manage_organisation`), atomic, audited; idempotent.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.org.models import AttendanceGroup

from .models import OutsideGeofenceRule, PunchSettings

PERMISSION = "org.manage_organisation"
BAD_OUTSIDE_RULE = "bad_outside_rule"


def punch_settings_state(row: PunchSettings) -> dict[str, Any]:
    return {
        "web_punch_enabled": row.web_punch_enabled,
        "outside_rule": row.outside_rule,
        "quick_punch": row.quick_punch,
    }


def punch_settings_of(group: AttendanceGroup) -> PunchSettings:
    """The group's saved punch rules, or the defaults (unsaved) when it has none."""
    found = PunchSettings.objects.filter(group=group).first() if group.pk else None
    return found if found is not None else PunchSettings(group=group)


@transaction.atomic
def punch_settings_save(
    *,
    actor: Any,
    group: AttendanceGroup,
    web_punch_enabled: bool,
    outside_rule: str,
    quick_punch: bool | None = None,
) -> tuple[PunchSettings, bool]:
    """Set the group's punch rules; returns the row and whether anything changed.
    ``quick_punch`` None leaves that switch as it is (callers that do not show it)."""
    if actor is not None and not actor.has_perm(PERMISSION):
        raise PermissionDeniedError()
    if outside_rule not in OutsideGeofenceRule.values:
        raise DomainError(
            BAD_OUTSIDE_RULE,
            _("Outside every geofence: choose “refuse” or “field punch”."),
            details={"field": "outside_rule"},
        )
    row = PunchSettings.objects.select_for_update().filter(group=group).first()
    before = punch_settings_state(row) if row is not None else None
    if row is None:
        row = PunchSettings(group=group)
    row.web_punch_enabled = bool(web_punch_enabled)
    row.outside_rule = outside_rule
    if quick_punch is not None:
        row.quick_punch = bool(quick_punch)
    after = punch_settings_state(row)
    if before == after:
        return row, False
    row.save()
    record(
        "punches.settings.update" if before is not None else "punches.settings.create",
        obj=row,
        actor=actor,
        before=None if before is None else {"group": group.code, **before},
        after={"group": group.code, **after},
    )
    return row, True
