"""Demo organisation: 示例科技有限公司 with four departments and about 40 employees."""

from __future__ import annotations

import secrets
import string
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from ztk.audit.services import record

from .models import AttendanceGroup, Company, Department, Employee
from .roles import AUDITOR, HR, SYSADMIN
from .services import pinyin_initials

User = get_user_model()

COMPANY = "示例科技有限公司"
DEPARTMENTS = [
    ("RD", "研发部"),
    ("SALES", "销售部"),
    ("OPS", "运营部"),
    ("HRADM", "人事行政部"),
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "晓东",
    "子涵",
    "浩然",
    "雨桐",
    "欣怡",
    "俊杰",
    "思远",
    "佳琪",
    "梓萱",
    "宇航",
    "一鸣",
    "诗涵",
    "志强",
    "海燕",
    "文博",
    "婷婷",
    "鹏飞",
]
DEMO_LOGINS = {"manager": "1001", "employee": "1002", "hr": "4001", "auditor": "4002"}


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(14))


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.txt"


def roster() -> list[dict]:
    """Deterministic list of demo employees: (number, name, department, supervisor number)."""
    people: list[dict] = []
    n = 0
    for d_index, (code, _name) in enumerate(DEPARTMENTS):
        head_no = f"{d_index + 1}001"
        size = 10 if code != "HRADM" else 8
        for i in range(size):
            number = f"{d_index + 1}{i + 1:03d}"
            name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]
            n += 1
            people.append(
                {
                    "employee_no": number,
                    "name": name,
                    "department": code,
                    "supervisor": None if number == head_no else head_no,
                }
            )
    return people


@transaction.atomic
def load_demo(stdout=None) -> dict[str, str] | None:
    """Idempotent: returns the new logins' passwords, or None when the demo already exists."""
    if Company.objects.filter(name=COMPANY).exists():
        return None
    company = Company.objects.create(name=COMPANY, time_zone=settings.TIME_ZONE)
    group = AttendanceGroup.objects.create(code="STD", name="标准工时组")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in (HR, SYSADMIN, AUDITOR)}
    departments = {
        code: Department.objects.create(code=code, name=name) for code, name in DEPARTMENTS
    }
    employees: dict[str, Employee] = {}
    passwords: dict[str, str] = {}
    login_of = {number: login for login, number in DEMO_LOGINS.items()}
    for person in roster():
        number = person["employee_no"]
        username = login_of.get(number, f"e{number}")
        user = User(username=username, first_name=person["name"])
        if username in DEMO_LOGINS:
            passwords[username] = _password()
            user.set_password(passwords[username])
        else:
            user.set_unusable_password()
        user.save()
        employees[number] = Employee.objects.create(
            user=user,
            employee_no=number,
            name=person["name"],
            name_initials=pinyin_initials(person["name"]),
            department=departments[person["department"]],
            attendance_group=group,
            hire_date=date(2023, 3, 1),
        )
    for person in roster():
        if person["supervisor"]:
            employees[person["employee_no"]].supervisor = employees[person["supervisor"]]
            employees[person["employee_no"]].save(update_fields=["supervisor"])
    for d_index, (code, _name) in enumerate(DEPARTMENTS):
        departments[code].head = employees[f"{d_index + 1}001"]
        departments[code].save(update_fields=["head"])
    employees["4001"].user.groups.add(groups[HR])
    employees["4002"].user.groups.add(groups[AUDITOR])
    admin_password = _password()
    admin = User.objects.create_superuser("admin", "", admin_password)
    admin.groups.add(groups[SYSADMIN])
    passwords["admin"] = admin_password
    record(
        "demo.load",
        obj=company,
        extra={"employees": len(employees), "departments": len(departments)},
    )
    lines = [f"{login}\t{password}" for login, password in passwords.items()]
    path = credentials_path()
    path.write_text("# ZTK demo logins: user<TAB>password\n" + "\n".join(lines) + "\n")
    path.chmod(0o600)
    return passwords
