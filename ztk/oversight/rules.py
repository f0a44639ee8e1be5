"""Who may handle which finding (the sections are ``org.rules.can_see_findings`` and
``can_change_finding_thresholds``).

Auditors acknowledge or dismiss any finding; HR does too, except the findings about HR's
own work (the HR-activity rule). Nobody handles a finding whose subject is themselves
(their user or their employee record): nobody closes a finding about their own conduct.
"""

from __future__ import annotations

from typing import Any

from ztk.org.rules import employee_of, is_auditor, is_hr

from .checks import HR_ACTIVITY
from .models import Finding


def is_about(user: Any, finding: Finding) -> bool:
    """The finding's subject is the user (as the approver or operator, or as an employee)."""
    if finding.user_id is not None and finding.user_id == getattr(user, "pk", None):
        return True
    me = employee_of(user)
    return me is not None and me.pk in (finding.employee_id, finding.other_employee_id)


def can_handle(user: Any, finding: Finding) -> bool:
    if not (is_auditor(user) or is_hr(user)) or is_about(user, finding):
        return False
    return is_auditor(user) or finding.rule != HR_ACTIVITY
