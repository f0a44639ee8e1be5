"""Changes elsewhere that must reach the terminals: wired in `DevicesConfig.ready()`.

Every write of an employee goes through `Employee.save()` (HR pages, the sync API, the
imports, the group pages, the admin, the demo), so one receiver finds every path; the
sync itself runs after the commit and compares with what the terminals were told
(`biometrics`), so saving an employee without a relevant change queues nothing.
"""

from __future__ import annotations

from typing import Any

from . import biometrics
from .models import Device, TerminalPin

# A terminal save that changes who should be on it (heartbeat writes use .update()).
DEVICE_FIELDS = frozenset({"status", "attendance_group"})


def employee_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loaddata / restore: the restored rows are the state
        return
    biometrics.schedule(employee_ids=[instance.pk])


def device_saved(sender: Any, instance: Device, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    fields = kwargs.get("update_fields")
    if fields is None or DEVICE_FIELDS & set(fields):
        biometrics.schedule(device_ids=[instance.pk])


def pin_changed(sender: Any, instance: TerminalPin, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    biometrics.schedule(employee_ids=[instance.employee_id])
