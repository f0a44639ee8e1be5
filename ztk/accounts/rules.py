"""Who may do what in the accounts area (autodiscovered by django-rules)."""

from __future__ import annotations

from typing import Any

import rules
from django.conf import settings

from ztk.org.rules import is_hr, is_sysadmin


@rules.predicate
def is_staff(user) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_staff", False))


# HR and system admins run the settings area (Django admin) without needing the is_staff
# flag set by hand: the role is the single source of truth for what a person may do.
may_use_admin = is_staff | is_hr | is_sysadmin

# People whose account can change the organisation; a stolen password alone must not
# be enough for them when OTP_REQUIRED_FOR_STAFF is on.
is_privileged = may_use_admin

rules.add_perm("accounts.unlock_account", is_hr | is_sysadmin)


def needs_second_factor(user: Any) -> bool:
    """A signed-in privileged account whose session has not passed the TOTP step (yet).

    The one rule for pages (RequireOTPMiddleware redirects) and the API (403
    `otp_required`): with OTP_REQUIRED_FOR_STAFF on, a password-only session of HR, a
    system admin or any staff account reaches nothing but the second-factor pages.
    """
    if not settings.OTP_REQUIRED_FOR_STAFF:
        return False
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return False
    return bool(is_privileged(user))
