"""Demo organisation: 示例科技有限公司 with four departments and 38 employees.

Everything goes through the same services as real data, so the demo's audit log reads like a
real one: who was created, in which order, ending with one `demo.load` event. Later issues add
their steps (shifts, a month of punches, …) to `load_demo` in the marked places.
"""

from __future__ import annotations

import os
import secrets
import string
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record, snapshot
from ztk.core.errors import DomainError

from .models import AttendanceGroup, Company, Employee
from .roles import AUDITOR, HR, SYSADMIN
from .services import department_upsert, employee_upsert

User = get_user_model()

COMPANY = "示例科技有限公司"
ATTENDANCE_GROUP = ("STD", "标准工时组")
HIRE_DATE = date(2023, 3, 1)

# (code, name, size, team leads). Employee numbers run X000, X001, … per department; X000 is
# the head. A team lead reports to the head and supervises the people numbered after them up
# to the next lead; people before the first lead (or in a department without leads) report
# to the head directly.
DEPARTMENTS = [
    ("RD", "研发部", 12, ("1001", "1006")),
    ("SALES", "销售部", 10, ("2001",)),
    ("OPS", "运营部", 8, ()),
    ("HRADM", "人事行政部", 8, ()),
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

# The four logins of the issue (plus `admin`), the employee behind each and what it shows.
DEMO_LOGINS = {"hr": "4001", "manager": "1001", "employee": "1002", "auditor": "4002"}
ROLE_OF = {HR: "hr", AUDITOR: "auditor"}  # role group -> login
DESCRIPTIONS = {
    "hr": "人事管理员 HR admin",
    "manager": "直属主管 supervisor (研发部, 4 reports)",
    "employee": "员工 employee (reports to manager)",
    "auditor": "审计员 auditor (verifies the audit log)",
    "admin": "系统管理员 superuser (/admin/)",
}


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(14))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.txt"


def write_credentials(passwords: dict[str, str]) -> Path:
    """user<TAB>password<TAB>role lines, readable by the owner only (mode 600)."""
    path = credentials_path()
    lines = ["# ZTK demo logins: user<TAB>password<TAB>role"]
    lines += [f"{login}\t{pw}\t{DESCRIPTIONS.get(login, '')}" for login, pw in passwords.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the file may already exist with a wider mode
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def head_number(d_index: int) -> str:
    return f"{d_index + 1}000"


def roster() -> list[dict]:
    """Deterministic list of demo employees: number, name, department, supervisor number."""
    people: list[dict] = []
    n = 0
    for d_index, (code, _name, size, leads) in enumerate(DEPARTMENTS):
        head_no = head_number(d_index)
        boss = head_no
        for i in range(size):
            number = f"{d_index + 1}{i:03d}"
            if number in leads:
                supervisor, boss = head_no, number
            else:
                supervisor = None if number == head_no else boss
            people.append(
                {
                    "employee_no": number,
                    "name": SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)],
                    "department": code,
                    "supervisor": supervisor,
                }
            )
            n += 1
    return people


@transaction.atomic
def load_demo() -> dict[str, str] | None:
    """Idempotent: returns the new logins' passwords, or None when the demo already exists.

    Refuses (DomainError `demo_not_empty`) to mix demo people into a real organisation.
    """
    if Company.objects.filter(name=COMPANY).exists():
        return None
    if Company.objects.exists() or Employee.objects.exists():
        raise DomainError(
            "demo_not_empty",
            _("The database already holds an organisation; the demo loads only into an empty one."),
        )

    # --- company and attendance group ------------------------------------------------------
    company = Company.objects.create(name=COMPANY, time_zone=settings.TIME_ZONE)
    record("org.company.create", obj=company, after=snapshot(company))
    group = AttendanceGroup.objects.create(
        code=ATTENDANCE_GROUP[0], name=ATTENDANCE_GROUP[1], time_zone=settings.TIME_ZONE
    )
    record("org.attendance_group.create", obj=group, after=snapshot(group))

    # --- departments, employees (heads first, then leads, then staff), department heads ----
    for code, name, _size, _leads in DEPARTMENTS:
        department_upsert(actor=None, code=code, name=name)
    login_of = {number: login for login, number in DEMO_LOGINS.items()}
    employees: dict[str, Employee] = {}
    for person in roster():
        number = person["employee_no"]
        username = login_of.get(number, f"e{number}")
        employees[number], _created = employee_upsert(
            actor=None,
            employee_no=number,
            name=person["name"],
            department_code=person["department"],
            supervisor_no=person["supervisor"],
            attendance_group_code=group.code,
            email=f"{username}@example.com",
            hire_date=HIRE_DATE,
            username=username,
        )
    for d_index, (code, name, _size, _leads) in enumerate(DEPARTMENTS):
        department_upsert(actor=None, code=code, name=name, head_employee_no=head_number(d_index))

    # --- logins and roles --------------------------------------------------------------------
    roles = {name: Group.objects.get_or_create(name=name)[0] for name in (HR, SYSADMIN, AUDITOR)}
    passwords: dict[str, str] = {}
    for login, number in DEMO_LOGINS.items():
        user = employees[number].user
        passwords[login] = _password()
        user.set_password(passwords[login])
        user.save(update_fields=["password"])
    for role, login in ROLE_OF.items():
        employees[DEMO_LOGINS[login]].user.groups.add(roles[role])
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        passwords["admin"] = _password()
        admin = User.objects.create_superuser("admin", "admin@example.com", passwords["admin"])
    admin.groups.add(roles[SYSADMIN])

    # --- later issues: shifts and weekly pattern, a month of punches, corrections ---------------

    record(
        "demo.load",
        obj=company,
        extra={
            "employees": len(employees),
            "departments": len(DEPARTMENTS),
            "logins": sorted(passwords),
            "roles": {**ROLE_OF, SYSADMIN: "admin"},
        },
    )
    write_credentials(passwords)
    return passwords
