from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from ztk.core.errors import NotFoundError
from ztk.core.text import is_clean_text

from .models import Company, Department, Employee
from .rules import employee_of, is_hr, is_sysadmin


def period_start_day() -> int:
    """The company's attendance period start day (1–28): THE reader of the setting.

    The period arithmetic itself is ``ztk.engine.periods`` (pure, start day as argument);
    1 when no company row exists yet or the stored value is out of range.
    """
    value = Company.objects.order_by("pk").values_list("period_start_day", flat=True).first()
    return value if isinstance(value, int) and 1 <= value <= 28 else 1


def employee_matches(term: str, *, via: str = "") -> Q:
    """Name, employee number or pinyin initials (“zs” finds 张三): the one employee search.

    `via` is the path to the employee from another model, e.g. "employee__".
    """
    return (
        Q(**{f"{via}name__icontains": term})
        | Q(**{f"{via}employee_no__icontains": term})
        | Q(**{f"{via}name_initials__startswith": term.lower()})
    )


def employee_list(
    *,
    search: str = "",
    department: str = "",
    supervisor: str = "",
    attendance_group: str = "",
    active: bool | None = None,
) -> QuerySet[Employee]:
    """Employees by number, with everything the list and sync outputs show in one query."""
    qs = Employee.objects.select_related("user", "department", "supervisor", "attendance_group")
    if search:
        qs = qs.filter(employee_matches(search))
    if department:
        qs = qs.filter(department__code=department)
    if supervisor:
        qs = qs.filter(supervisor__employee_no=supervisor)
    if attendance_group:
        qs = qs.filter(attendance_group__code=attendance_group)
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("employee_no")


def may_view_employee(actor: Any, employee: Employee) -> bool:
    return bool(actor.has_perm("org.view_employee_profile", employee))


def employee_for(
    actor: Any,
    employee_no: str | None,
    *,
    may: Callable[[Any, Employee], bool] = may_view_employee,
) -> Employee:
    """The employee `actor` asks for by number (themselves when no number is given).

    THE look-up by employee number for every page and API operation: a number nobody has
    and a person the actor may not see (`may`, by default `org.view_employee_profile`)
    raise the same NotFoundError, so probing numbers tells nobody who works here. A caller
    that needs a narrower right (filing for someone, their printable sheet) passes `may`.
    """
    wanted = (employee_no or "").strip()
    if len(wanted) > Employee._meta.get_field("employee_no").max_length or not is_clean_text(
        wanted
    ):
        raise NotFoundError()  # names nobody (and PostgreSQL refuses a NUL even in a search)
    if not wanted:
        me = employee_of(actor)
        if me is None:
            raise NotFoundError(code="no_employee")
        return me
    employee = (
        Employee.objects.select_related("user", "department", "supervisor", "attendance_group")
        .filter(employee_no=wanted)
        .first()
    )
    if employee is None or not may(actor, employee):  # one answer for both
        raise NotFoundError()
    return employee


PICK_LIMIT = 20  # people a picker offers at once


def people_to_pick(term: str, *, limit: int = PICK_LIMIT) -> list[Employee]:
    """Active employees with an account matching `term` (name, number or pinyin
    initials: ``employee_matches``), for a person picker; exact numbers and names first."""
    term = (term or "").strip()[:60]
    if not term or not is_clean_text(term):
        return []
    found = list(
        Employee.objects.select_related("user", "department")
        .filter(employee_matches(term), active=True, user__isnull=False, user__is_active=True)
        .order_by("employee_no")[: limit * 5]
    )
    found.sort(key=lambda e: (e.employee_no != term, e.name != term, e.employee_no))
    return found[:limit]


def user_named(value: str) -> Any:
    """The user behind an employee number, a user name, or a name / pinyin initials that
    fit exactly one active person: whom a step is handed to.

    The one look-up for "transfer to" on the pages and the API; None when nobody has it
    or a name fits several people (the picker then shows them with their numbers).
    """
    value = (value or "").strip()[:150]
    if not value or not is_clean_text(value):
        return None
    employee = Employee.objects.select_related("user").filter(employee_no=value).first()
    if employee is not None:
        return employee.user
    user = get_user_model().objects.filter(username=value).first()
    if user is not None:
        return user
    people = people_to_pick(value, limit=2)
    named = [e for e in people if e.name == value]
    if len(named) == 1:
        return named[0].user
    return people[0].user if len(people) == 1 else None


def user_picked(value: str) -> Any:
    """The account a person picker's text names: an employee number or user name
    (``user_named``), else the one active employee whose name, number or pinyin initials
    match; None when nobody or several match."""
    value = (value or "").strip()[:150]
    if not value or not is_clean_text(value):
        return None
    found = user_named(value)
    if found is not None:
        return found
    matches = list(
        Employee.objects.filter(employee_matches(value), active=True, user__isnull=False)
        .select_related("user")
        .order_by("employee_no")[:2]
    )
    return matches[0].user if len(matches) == 1 else None


def picker_people(limit: int = 500) -> list[Employee]:
    """Active employees with an account, for a person picker's suggestions."""
    return list(
        Employee.objects.filter(active=True, user__isnull=False).order_by("employee_no")[:limit]
    )


def department_list(
    *, search: str = "", parent: str = "", active: bool | None = None
) -> QuerySet[Department]:
    qs = Department.objects.select_related("parent", "head")
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name__icontains=search))
    if parent:
        qs = qs.filter(parent__code=parent)
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("code")


def department_get(*, code: str) -> Department | None:
    return department_list().filter(code=code).first()


def employee_profile(user: Any) -> Employee | None:
    """The user's own employee record with what /me shows, in one query."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (
        Employee.objects.select_related("department", "supervisor", "attendance_group")
        .filter(user_id=user.pk)
        .first()
    )


def employees_visible_to(user: Any) -> QuerySet[Employee]:
    """Employees whose attendance `user` may see: self, reports, department, or all for HR."""
    base = Employee.objects.select_related("department", "attendance_group")
    if is_hr(user) or is_sysadmin(user):
        return base
    me = employee_of(user)
    if me is None:
        return base.none()
    dept_ids = departments_headed_by(me)
    return base.filter(Q(pk=me.pk) | Q(supervisor=me) | Q(department_id__in=dept_ids))


def departments_headed_by(employee: Employee | None) -> set[int]:
    """Ids of the departments `employee` heads and every department below them: THE
    department-head scope (team attendance, analytics). One query per level of depth."""
    if employee is None:
        return set()
    headed = set(employee.headed_departments.values_list("pk", flat=True))
    dept_ids = set(headed)
    frontier = set(headed)
    while frontier:  # sub-departments of the ones I head
        children = set(
            Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = children - dept_ids
        dept_ids |= frontier
    return dept_ids
