"""Limits of the terminal endpoints, from settings or environment variables (README lists them).

Each value is read when used: a Django setting of the same name (tests override those),
else the `ZTK_…` environment variable, else the default. Read here and nowhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings


def _int(name: str, env: str, default: int) -> int:
    if hasattr(settings, name):
        return int(getattr(settings, name))
    value = os.environ.get(env, "").strip()
    return int(value) if value.isdigit() else default


def auto_approve_enabled() -> bool:
    """DEVICE_AUTO_APPROVE setting, else the ZTK_DEVICE_AUTO_APPROVE environment flag."""
    env = os.environ.get("ZTK_DEVICE_AUTO_APPROVE", "").strip().lower() in {"1", "true", "yes"}
    return bool(getattr(settings, "DEVICE_AUTO_APPROVE", env))


def max_pending() -> int:
    """Terminals that may wait for approval at once (ZTK_DEVICE_MAX_PENDING, 200)."""
    return _int("DEVICE_MAX_PENDING", "ZTK_DEVICE_MAX_PENDING", 200)


def max_pending_per_address() -> int:
    """Of those, from one source address or IPv6 /64 (ZTK_DEVICE_MAX_PENDING_PER_ADDRESS, 10)."""
    return _int("DEVICE_MAX_PENDING_PER_ADDRESS", "ZTK_DEVICE_MAX_PENDING_PER_ADDRESS", 10)


def registrations_per_hour() -> int:
    """New serials one source address may register per hour (…_REGISTRATIONS_PER_HOUR, 20)."""
    return _int("DEVICE_REGISTRATIONS_PER_HOUR", "ZTK_DEVICE_REGISTRATIONS_PER_HOUR", 20)


def photo_max_bytes() -> int:
    """The largest punch photo accepted (ZTK_DEVICE_PHOTO_MAX_KB, 1024 KiB)."""
    return _int("DEVICE_PHOTO_MAX_KB", "ZTK_DEVICE_PHOTO_MAX_KB", 1024) * 1024


def photo_max_pixels() -> int:
    """Width × height above which a photo is refused unread (ZTK_DEVICE_PHOTO_MAX_PIXELS)."""
    return _int("DEVICE_PHOTO_MAX_PIXELS", "ZTK_DEVICE_PHOTO_MAX_PIXELS", 4096 * 4096)


def photo_quota_bytes() -> int:
    """Photo storage one terminal may use (ZTK_DEVICE_PHOTO_QUOTA_MB, 500 MiB)."""
    return _int("DEVICE_PHOTO_QUOTA_MB", "ZTK_DEVICE_PHOTO_QUOTA_MB", 500) * 1024 * 1024


def photo_retention_days() -> int:
    """Photos older than this many days are deleted daily (…_PHOTO_RETENTION_DAYS, 90)."""
    return _int("DEVICE_PHOTO_RETENTION_DAYS", "ZTK_DEVICE_PHOTO_RETENTION_DAYS", 90)


def photo_dir() -> Path:
    """Where photos are kept: ZTK_DEVICE_PHOTO_DIR, else var/device-photos (never under /media/)."""
    configured = getattr(settings, "DEVICE_PHOTO_DIR", "") or os.environ.get(
        "ZTK_DEVICE_PHOTO_DIR", ""
    )
    return Path(configured) if configured else Path(settings.VAR_DIR) / "device-photos"


def command_timeout_seconds() -> int:
    """A sent command unanswered this long is sent again (ZTK_DEVICE_COMMAND_TIMEOUT, 300 s)."""
    return max(1, _int("DEVICE_COMMAND_TIMEOUT", "ZTK_DEVICE_COMMAND_TIMEOUT", 300))


def command_max_attempts() -> int:
    """How often a command is sent before it expires (ZTK_DEVICE_COMMAND_ATTEMPTS, 3)."""
    return max(1, _int("DEVICE_COMMAND_ATTEMPTS", "ZTK_DEVICE_COMMAND_ATTEMPTS", 3))


def commands_per_poll() -> int:
    """Commands handed out in one getrequest answer (ZTK_DEVICE_COMMANDS_PER_POLL, 20)."""
    return max(1, _int("DEVICE_COMMANDS_PER_POLL", "ZTK_DEVICE_COMMANDS_PER_POLL", 20))


def clock_drift_limit_seconds() -> int:
    """Drift beyond which the clock is set automatically (ZTK_DEVICE_CLOCK_DRIFT, 120 s)."""
    return max(1, _int("DEVICE_CLOCK_DRIFT", "ZTK_DEVICE_CLOCK_DRIFT", 120))


def silent_minutes() -> int:
    """Unheard of this long in working hours: silent (ZTK_DEVICE_SILENT_MINUTES, 30)."""
    return max(1, _int("DEVICE_SILENT_MINUTES", "ZTK_DEVICE_SILENT_MINUTES", 30))


def working_hours() -> tuple[int, int]:
    """Hours (local, [start, end)) in which a silent terminal is flagged on working days
    (ZTK_DEVICE_WORKING_HOURS, "7-19")."""
    value = str(
        getattr(settings, "DEVICE_WORKING_HOURS", "")
        or os.environ.get("ZTK_DEVICE_WORKING_HOURS", "")
    ).strip()
    start, _, end = value.partition("-")
    if start.isdigit() and end.isdigit() and 0 <= int(start) < int(end) <= 24:
        return int(start), int(end)
    return 7, 19


def user_sync_enabled() -> bool:
    """Whether employee and terminal changes queue USERINFO/template commands by themselves
    (DEVICE_USER_SYNC setting, else ZTK_DEVICE_USER_SYNC; on by default). Off, HR's
    "send every user" on a terminal's page still works."""
    configured = getattr(settings, "DEVICE_USER_SYNC", None)
    if configured is not None:
        return bool(configured)
    value = os.environ.get("ZTK_DEVICE_USER_SYNC", "").strip().lower()
    return value not in {"0", "false", "no", "off"}
