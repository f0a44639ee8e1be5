"""Who sees which section: one definition shared by the navigation and the views' checks.

Keeping both in one place means a link is shown exactly when its page would let you in.
"""

from __future__ import annotations

from ztk.accounts.rules import may_use_admin
from ztk.org.rules import (
    is_auditor,
    is_department_head,
    is_hr,
    is_superuser,
    is_supervisor,
    is_sysadmin,
)

can_approve = is_supervisor | is_department_head | is_hr | is_superuser
can_use_hr = is_hr
# The approvals oversight: HR, and superusers, who decide the requests nobody else can.
can_oversee = is_hr | is_superuser
can_see_team = is_supervisor | is_department_head | is_hr | is_sysadmin
can_see_reports = is_hr | is_sysadmin
can_see_audit = is_auditor | is_sysadmin
can_use_settings = may_use_admin
