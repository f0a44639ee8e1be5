"""`ztk check --deploy` warnings for the accounts area (ids ztk.W0xx)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def staff_second_factor(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """HR and admins see everyone's data: in production their password must not be enough."""
    if settings.OTP_REQUIRED_FOR_STAFF:
        return []
    return [
        Warning(
            "OTP_REQUIRED_FOR_STAFF is off: HR, system admins and staff accounts can log in"
            " (pages and API) with a password alone.",
            hint="Set OTP_REQUIRED_FOR_STAFF=true in the environment (see the README).",
            id="ztk.W001",
        )
    ]
