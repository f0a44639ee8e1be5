"""A small hand-made month for the analytics tests (tests/oversight/test_trends.py,
test_analytics_pages.py): attendance days, correction requests and field punches."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ztk.attendance.models import AttendanceDay
from ztk.corrections.models import CorrectionRequest, ReasonCategory
from ztk.punches.models import Punch, PunchVoid

SH = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SH)


def day(employee, d: date, status: str = "abnormal", **counts) -> AttendanceDay:
    return AttendanceDay.objects.create(
        employee=employee,
        day=d,
        kind="work" if status != "rest" else "rest",
        status=status,
        computed_at=timezone.now(),
        **counts,
    )


def request(employee, d, *, category, channel, status, created, decided=None, expected=None):
    r = CorrectionRequest.objects.create(
        employee=employee,
        applicant=employee.user,
        date=d,
        slot_key="s1i",
        slot_expected=expected,
        requested_time=at(d, 9),
        category=ReasonCategory.objects.get(code=category, policy=None),
        reason="忘记打卡了",
        channel=channel,
        status=status,
        period_start=date(2026, 11, 1),
        decided_at=decided,
        chain=[{"position": 1, "kind": "supervisor", "deadline_working_days": 2}],
    )
    CorrectionRequest.objects.filter(pk=r.pk).update(created_at=created)
    return r


def field_punch(employee, moment: datetime, key: str) -> Punch:
    return Punch.objects.create(
        employee=employee, at=moment, source="mobile", field_punch=True, dedup_key=key
    )


@pytest.fixture
def month(org):
    return build_month(org)


def build_month(org):
    """RD (head 王部长): 张三 1002 and 李四 1003; SALES: 赵六 2001. Nov 2 and 9 are Mondays."""
    for code, name, order in [("forgot", "忘记打卡", 10), ("device", "设备故障", 30)]:
        ReasonCategory.objects.get_or_create(
            policy=None, code=code, defaults={"name": name, "order": order}
        )
    e, c, s = org.employee, org.colleague, org.stranger
    day(e, date(2026, 11, 2), late_count=1, missing_out_count=1)
    day(e, date(2026, 11, 3), "normal")
    day(e, date(2026, 11, 7), "rest")  # not a working day
    day(e, date(2026, 11, 9), "absent", absent_days=1)
    day(c, date(2026, 11, 2), late_count=2, early_count=1)
    day(c, date(2026, 11, 10), missing_in_count=1)
    day(s, date(2026, 11, 3), late_count=1)
    day(s, date(2026, 11, 4), "leave")  # not a working day
    day(s, date(2026, 12, 1), early_count=1)
    # corrections: two decided (2 h, within the SLA; 72 h, after it), one pending, one withdrawn
    request(
        e,
        date(2026, 11, 2),
        category="forgot",
        channel="web",
        status="approved",
        created=at(date(2026, 11, 2), 10),
        decided=at(date(2026, 11, 2), 12),
        expected=at(date(2026, 11, 2), 18),
    )
    request(
        c,
        date(2026, 11, 2),
        category="forgot",
        channel="mobile",
        status="rejected",
        created=at(date(2026, 11, 2), 10),
        decided=at(date(2026, 11, 5), 10),
    )
    request(
        s,
        date(2026, 11, 3),
        category="device",
        channel="web",
        status="pending",
        created=at(date(2026, 11, 3), 10),
        expected=at(date(2026, 11, 3), 9),
    )
    request(
        e,
        date(2026, 11, 4),
        category="device",
        channel="web",
        status="withdrawn",
        created=at(date(2026, 11, 4), 10),
    )
    field_punch(e, at(date(2026, 11, 2), 9), "f1")
    field_punch(s, at(date(2026, 11, 3), 9), "f2")
    voided = field_punch(e, at(date(2026, 11, 3), 9), "f3")
    PunchVoid.objects.create(punch=voided, reason="wrong", voided_by=org.hr.user)
    field_punch(e, at(date(2026, 11, 9), 0, 30), "f4")  # Monday 00:30 local, Sunday in UTC
    return org
