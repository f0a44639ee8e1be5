"""Test data built through the real models; workflows use the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from ztk.org.models import AttendanceGroup, Department, Employee
from ztk.punches.models import Geofence

User = get_user_model()
PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class AttendanceGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttendanceGroup
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"G{n}")
    name = factory.Sequence(lambda n: f"考勤组{n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n}")
    name = factory.Sequence(lambda n: f"部门{n}")


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    user = factory.SubFactory(UserFactory)
    employee_no = factory.Sequence(lambda n: f"{9000 + n}")
    name = factory.Sequence(lambda n: f"员工{n}")
    department = factory.SubFactory(DepartmentFactory)
    attendance_group = factory.SubFactory(AttendanceGroupFactory)
    hire_date = date(2024, 1, 1)


def add_to_group(user, name: str) -> None:
    user.groups.add(Group.objects.get_or_create(name=name)[0])
    if hasattr(user, "_ztk_groups"):
        del user._ztk_groups


@dataclass
class SmallOrg:
    group: AttendanceGroup
    department: Department
    head: Employee
    supervisor: Employee
    employee: Employee
    colleague: Employee
    stranger: Employee
    hr: Employee
    auditor: Employee
    sysadmin: object


def small_org() -> SmallOrg:
    group = AttendanceGroupFactory(code="STD", name="标准工时组")
    dept = DepartmentFactory(code="RD", name="研发部")
    other = DepartmentFactory(code="SALES", name="销售部")

    def person(username, number, name, department, supervisor=None):
        return EmployeeFactory(
            user=UserFactory(username=username),
            employee_no=number,
            name=name,
            department=department,
            supervisor=supervisor,
            attendance_group=group,
        )

    head = person("head", "1000", "王部长", dept)
    dept.head = head
    dept.save()
    supervisor = person("manager", "1001", "李主管", dept, head)
    employee = person("employee", "1002", "张三", dept, supervisor)
    colleague = person("colleague", "1003", "李四", dept, supervisor)
    stranger = person("stranger", "2001", "赵六", other)
    hr = person("hr", "4001", "陈人事", other)
    add_to_group(hr.user, "hr")
    auditor = person("auditor", "4002", "周审计", other)
    add_to_group(auditor.user, "auditor")
    sysadmin = UserFactory(username="sysadmin")
    add_to_group(sysadmin, "sysadmin")
    return SmallOrg(
        group, dept, head, supervisor, employee, colleague, stranger, hr, auditor, sysadmin
    )


def geofence(*groups: AttendanceGroup, code: str = "HQ", name: str = "总部", **fields):
    """A punch area used by ``groups`` (created directly: tests of the pages use the service)."""
    fields.setdefault("latitude", 31.2304)
    fields.setdefault("longitude", 121.4737)
    fence = Geofence.objects.create(code=code, name=name, **fields)
    fence.groups.set(groups)
    return fence
