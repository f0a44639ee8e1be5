"""The demo company scaled up: thousands of people for the morning-rush load run.

`ztk demo-scale --employees 10000` adds, to the demo company (`ztk demo` first), that many
people in departments of fifty, each department's head supervising the rest, all in the
demo's standard group; their punches of the last working days (through the same bulk
ingestion as a terminal file, then one range recompute); and a pending correction for one
person in twenty, waiting for their head. Everyone shares one password (one hash, computed
once: ten thousand PBKDF2 runs would take minutes), so the load generator can sign in as
any of them. Bulk rows on purpose: this is fixture data for a measurement, not a user's
write, and it is audited as one batch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from ztk.attendance.services import recompute_range
from ztk.audit.services import record
from ztk.core.errors import DomainError
from ztk.corrections.services import ItemIn, correction_submit
from ztk.org.models import AttendanceGroup, Department, Employee
from ztk.org.zones import employee_zone
from ztk.punches.models import PunchSource
from ztk.punches.services import PunchInput, record_punches

User = get_user_model()

DEPARTMENT_SIZE = 50
USERNAME = "p{:05d}"  # the people's logins: p00000, p00001, …
NUMBER_BASE = 200_000  # employee numbers 200000…, clear of the demo's own
DEPT_CODE = "SCALE{:04d}"
REQUEST_EVERY = 20  # one person in twenty has a pending correction
BATCH = 20_000


@dataclass
class ScaledCompany:
    employees: int
    departments: int
    punches: int
    days: int
    pending_requests: int
    heads: list[str]  # logins of the department heads (the approvers)


def head_index(d_index: int) -> int:
    return d_index * DEPARTMENT_SIZE


def _working_days(today: date, count: int) -> list[date]:
    """The last `count` Monday–Friday dates before today, oldest first."""
    days: list[date] = []
    day = today - timedelta(days=1)
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


def load_scaled_company(
    *,
    employees: int,
    days: int = 10,
    password: str,
    group_code: str = "STD",
    today: date | None = None,
    seed: int = 7,
) -> ScaledCompany:
    if employees < 1:
        raise DomainError("validation_error", "give at least one employee")
    if Department.objects.filter(code=DEPT_CODE.format(0)).exists():
        raise DomainError("already_scaled", "the scaled company is loaded already")
    group = AttendanceGroup.objects.filter(code=group_code).first()
    if group is None:
        raise DomainError("no_group", f"no attendance group {group_code}: run `ztk demo` first")
    today = today or timezone.localdate()
    rng = random.Random(seed)
    n_depts = (employees + DEPARTMENT_SIZE - 1) // DEPARTMENT_SIZE
    hashed = make_password(password)
    with transaction.atomic():
        depts = Department.objects.bulk_create(
            [Department(code=DEPT_CODE.format(d), name=f"规模部门{d}") for d in range(n_depts)]
        )
        users = User.objects.bulk_create(
            [User(username=USERNAME.format(i), password=hashed) for i in range(employees)],
            batch_size=2000,
        )
        people = Employee.objects.bulk_create(
            [
                Employee(
                    user=user,
                    employee_no=str(NUMBER_BASE + i),
                    name=f"规模员工{i}",
                    department=depts[i // DEPARTMENT_SIZE],
                    attendance_group=group,
                    hire_date=date(2020, 1, 1),
                )
                for i, user in enumerate(users)
            ],
            batch_size=2000,
        )
        for i, person in enumerate(people):
            d_index = i // DEPARTMENT_SIZE
            if i != head_index(d_index):
                person.supervisor = people[head_index(d_index)]
        Employee.objects.bulk_update(people, ["supervisor"], batch_size=2000)
        for d_index, dept in enumerate(depts):
            dept.head = people[head_index(d_index)]
        Department.objects.bulk_update(depts, ["head"], batch_size=2000)
        record(
            "ops.demo_scale",
            obj=group,
            extra={"employees": employees, "departments": n_depts},
        )
    worked = _working_days(today, days)
    tz = employee_zone(people[0])
    # The people with a pending correction forgot to punch out on the last working day.
    forgetful = {i for i in range(employees) if i % REQUEST_EVERY == 1}
    inputs: list[PunchInput] = []
    stored = 0
    for day in worked:
        for i, person in enumerate(people):
            start = datetime.combine(day, time(9), tzinfo=tz)
            inputs.append(
                PunchInput(
                    source=PunchSource.IMPORT,
                    employee_id=person.pk,
                    at=start + timedelta(minutes=rng.randint(-35, 8), seconds=rng.randint(0, 59)),
                )
            )
            if day == worked[-1] and i in forgetful:
                continue
            inputs.append(
                PunchInput(
                    source=PunchSource.IMPORT,
                    employee_id=person.pk,
                    at=start
                    + timedelta(hours=9, minutes=rng.randint(0, 80), seconds=rng.randint(0, 59)),
                )
            )
            if len(inputs) >= BATCH:
                stored += record_punches(inputs, recompute=False).new
                inputs = []
    if inputs:
        stored += record_punches(inputs, recompute=False).new
    recompute_range(start=worked[0], end=today, group_id=group.pk)
    pending = 0
    last = worked[-1]
    for i in sorted(forgetful):
        person = people[i]
        correction_submit(
            actor=person.user,
            employee=person,
            items=[
                ItemIn(
                    day=last,
                    slot_key="out1",
                    requested_time=datetime.combine(last, time(18, 5), tzinfo=tz),
                    category="forgot",
                    reason="下班忘记打卡，补下班卡",
                )
            ],
        )
        pending += 1
    return ScaledCompany(
        employees=employees,
        departments=n_depts,
        punches=stored,
        days=len(worked),
        pending_requests=pending,
        heads=[USERNAME.format(head_index(d)) for d in range(n_depts)],
    )
