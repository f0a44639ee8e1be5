"""Who may do what in the accounts area (autodiscovered by django-rules)."""

from __future__ import annotations

import rules

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
