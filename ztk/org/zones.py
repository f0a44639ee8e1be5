"""The time zone of an employee or an attendance group: one rule, written once.

The zone is the attendance group's; for an employee without a group (or a group whose
zone is empty or not a zone name) the company's; without a usable company zone,
``settings.TIME_ZONE``. Never UTC by accident: an employee without a group lives where
the company lives. Every app below attendance (punches, scheduling, devices) and above
it reads zones through this module (docs/architecture.md, "The zone of an employee").
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings

from .models import Company

if TYPE_CHECKING:
    from .models import AttendanceGroup, Employee


@lru_cache(maxsize=256)
def _known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def usable(name: str | None) -> bool:
    """Whether ``name`` is a zone name ZoneInfo knows (empty and None are not)."""
    return bool(name) and _known(str(name))


def default_zone_name() -> str:
    """The zone of anyone without a group: the company's, else ``settings.TIME_ZONE``.

    One query (the company row); callers with many employees use ``zone_names``.
    """
    name = Company.objects.order_by("pk").values_list("time_zone", flat=True).first()
    return name if usable(name) else settings.TIME_ZONE


def zone_name(group_zone: str | None, default: str | None = None) -> str:
    """The zone name for a group zone name (None: no group): the group's when usable,
    else ``default`` (``default_zone_name()`` when not given)."""
    if group_zone and usable(group_zone):
        return group_zone
    return default if default is not None else default_zone_name()


def zone_names(group_zones: Iterable[str | None]) -> dict[str | None, str]:
    """Each distinct group zone name (None: no group) mapped to the zone name it stands
    for; the company row is read at most once, and only when some name needs it."""
    names = set(group_zones)
    default = None
    if any(not usable(name) for name in names):
        default = default_zone_name()
    return {name: zone_name(name, default) for name in names}


def group_zone(group: AttendanceGroup | None) -> ZoneInfo:
    """The zone of an attendance group (None: no group, the company's)."""
    return ZoneInfo(zone_name(group.time_zone if group is not None else None))


def employee_zone(employee: Employee | None) -> ZoneInfo:
    """The employee's zone: their group's, else the company's, else settings.TIME_ZONE."""
    group = employee.attendance_group if employee is not None else None
    return group_zone(group)


class ZoneNames:
    """``zone_name`` for many group zone names read one by one: the company row is read
    at most once (when some name needs it)."""

    def __init__(self) -> None:
        self._default: str | None = None

    def __call__(self, group_zone: str | None) -> str:
        if group_zone and usable(group_zone):
            return group_zone
        if self._default is None:
            self._default = default_zone_name()
        return self._default


class EmployeeZones:
    """``employee_zone`` for a list of employees: the company row read at most once."""

    def __init__(self) -> None:
        self._names = ZoneNames()

    def __call__(self, employee: Employee) -> ZoneInfo:
        group = employee.attendance_group
        return ZoneInfo(self._names(group.time_zone if group is not None else None))


# The zones a form offers first (any other IANA name that ZoneInfo knows is accepted too).
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "Asia/Taipei",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Singapore",
    "Asia/Kuala_Lumpur",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Jakarta",
    "Asia/Manila",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Africa/Johannesburg",
    "UTC",
)
