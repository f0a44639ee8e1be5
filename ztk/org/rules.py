"""Who may do what, as small predicates (django-rules): each permission is defined once
here (or in its app's rules.py) and asked by the pages, the API and the navigation alike,
so a link is shown exactly when its page lets you in."""

from __future__ import annotations

import rules

from .roles import AUDITOR, HR, SYSADMIN


def employee_of(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.employee
    except Exception:  # noqa: BLE001 - RelatedObjectDoesNotExist
        return None


def _in_group(user, name: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cache = getattr(user, "_ztk_groups", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._ztk_groups = cache
    return name in cache


@rules.predicate
def is_hr(user) -> bool:
    return _in_group(user, HR)


@rules.predicate
def is_sysadmin(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or _in_group(user, SYSADMIN)


@rules.predicate
def is_superuser(user) -> bool:
    """A Django superuser: the last resort for an approval nobody else can decide."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_superuser", False))


@rules.predicate
def is_auditor(user) -> bool:
    return _in_group(user, AUDITOR)


def _memo(user, key: str, compute) -> bool:
    """Remember a role fact on the user object for the request: menus ask several times."""
    cache = getattr(user, "_ztk_roles", None)
    if cache is None:
        cache = {}
        try:
            user._ztk_roles = cache
        except AttributeError:  # e.g. AnonymousUser proxies; nothing to remember
            return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


@rules.predicate
def is_supervisor(user) -> bool:
    employee = employee_of(user)
    if employee is None:
        return False
    return _memo(user, "supervisor", lambda: employee.reports.filter(active=True).exists())


@rules.predicate
def is_department_head(user) -> bool:
    employee = employee_of(user)
    if employee is None:
        return False
    return _memo(user, "head", lambda: employee.headed_departments.exists())


@rules.predicate
def is_self(user, employee) -> bool:
    me = employee_of(user)
    return me is not None and employee is not None and me.pk == employee.pk


@rules.predicate
def is_supervisor_of(user, employee) -> bool:
    me = employee_of(user)
    return me is not None and employee is not None and employee.supervisor_id == me.pk


@rules.predicate
def is_department_head_of(user, employee) -> bool:
    me = employee_of(user)
    if me is None or employee is None or employee.department_id is None:
        return False
    department = employee.department
    return any(dept.head_id == me.pk for dept in [department, *department.ancestors()])


is_hr_or_admin = is_hr | is_sysadmin
can_manage_people = is_hr | is_sysadmin

# --- the sections and desks (navigation, pages and API ask these) ------------------------
# Approving: anyone who may hold a step (superusers decide what nobody else can).
can_approve = is_supervisor | is_department_head | is_hr | is_superuser
# The approvals oversight: HR, and superusers, who decide the requests nobody else can.
can_oversee = is_hr | is_superuser
# Team attendance: the people one leads, or everyone for HR and system admins.
can_see_team = is_supervisor | is_department_head | is_hr | is_sysadmin
# The HR hub (its pages: periods, imports, paper forms, oversight).
can_use_hr = is_hr
# HR's desk: manual add, paper forms, finding any employee's attendance.
can_use_hr_desk = is_hr | is_sysadmin
can_see_reports = is_hr | is_sysadmin
can_see_audit = is_auditor | is_sysadmin
# Oversight findings (/hr/oversight/findings/): HR and auditors read them, run the rules
# and handle them (object-level limits in ztk/oversight/rules.py); HR sets the thresholds.
can_see_findings = is_hr | is_auditor
# Analytics (/hr/analytics/): HR sees everyone; a department head their departments
# (and below: ``org.selectors.departments_headed_by``).
can_see_analytics = is_hr | is_department_head
can_change_finding_thresholds = is_hr
# The settings pages (/settings/): HR and system admins change them; auditors read them.
can_view_settings = is_hr | is_sysadmin | is_auditor
can_change_settings = is_hr | is_sysadmin

rules.add_perm(
    "org.view_employee_profile",
    is_self | is_supervisor_of | is_department_head_of | is_hr | is_sysadmin,
)  # noqa: E501
rules.add_perm("org.manage_organisation", can_manage_people)
rules.add_perm("org.sync_api", can_manage_people)
rules.add_perm("audit.view_audit", can_see_audit)
rules.add_perm("oversight.view_analytics", can_see_analytics)
