from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from .models import Department, Employee
from .rules import employee_of, is_hr, is_sysadmin


def employee_list(*, search: str = "", department: str = "", active: bool | None = None):
    qs = Employee.objects.select_related("department", "supervisor", "attendance_group")
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(employee_no__icontains=search)
            | Q(name_initials__startswith=search.lower())
        )
    if department:
        qs = qs.filter(department__code=department)
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("employee_no")


def department_list() -> QuerySet[Department]:
    return Department.objects.select_related("parent", "head").order_by("code")


def employees_visible_to(user: Any) -> QuerySet[Employee]:
    """Employees whose attendance `user` may see: self, reports, department, or all for HR."""
    base = Employee.objects.select_related("department", "attendance_group")
    if is_hr(user) or is_sysadmin(user):
        return base
    me = employee_of(user)
    if me is None:
        return base.none()
    headed = list(me.headed_departments.values_list("pk", flat=True))
    dept_ids = set(headed)
    frontier = set(headed)
    while frontier:  # sub-departments of the ones I head
        children = set(
            Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = children - dept_ids
        dept_ids |= frontier
    return base.filter(Q(pk=me.pk) | Q(supervisor=me) | Q(department_id__in=dept_ids))
