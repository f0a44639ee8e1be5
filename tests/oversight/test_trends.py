"""The trend figures (ztk/oversight/trends.py) on a small hand-made month: every metric
with its expected value worked out by hand, per week and month, per department and group,
and a department head's scope."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ztk.core.errors import DomainError
from ztk.notifications.models import ReminderSent
from ztk.oversight import trends as t

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOV = (date(2026, 11, 1), date(2026, 12, 31))
ALL = t.Scope.everyone()


def figures(points, *fields):
    return [(p.period, p.key, *(getattr(p, f) for f in fields)) for p in points]


def test_late_per_week_with_working_days_and_rate(month):
    points = t.trends("late", period="week", start=NOV[0], end=NOV[1], scope=ALL)
    assert figures(points, "value", "days", "rate") == [
        (date(2026, 11, 2), "", 4.0, 4, 100.0),
        (date(2026, 11, 9), "", 0.0, 2, 0.0),
        (date(2026, 11, 30), "", 0.0, 1, 0.0),
    ]


def test_late_per_month_by_department(month):
    points = t.trends("late", by="department", period="month", start=NOV[0], end=NOV[1], scope=ALL)
    assert figures(points, "value", "days", "rate") == [
        (date(2026, 11, 1), "RD", 3.0, 5, 60.0),
        (date(2026, 11, 1), "SALES", 1.0, 1, 100.0),
        (date(2026, 12, 1), "SALES", 0.0, 1, 0.0),
    ]
    assert points[0].label == "研发部"


def test_early_missing_absent(month):
    def month_values(metric):
        return figures(
            t.trends(metric, by="group", period="month", start=NOV[0], end=NOV[1], scope=ALL),
            "value",
        )

    assert month_values("early") == [
        (date(2026, 11, 1), "STD", 1.0),
        (date(2026, 12, 1), "STD", 1.0),
    ]
    assert month_values("missing") == [
        (date(2026, 11, 1), "STD", 2.0),
        (date(2026, 12, 1), "STD", 0.0),
    ]
    assert month_values("absent") == [
        (date(2026, 11, 1), "STD", 1.0),
        (date(2026, 12, 1), "STD", 0.0),
    ]


def test_field_punches_by_local_date_without_voided(month):
    points = t.trends("field", period="week", start=NOV[0], end=NOV[1], scope=ALL)
    # Nov 2 and Nov 3 (the voided one not counted); 00:30 on Monday Nov 9 is that week
    assert figures(points, "value", "days") == [
        (date(2026, 11, 2), "", 2.0, 4),
        (date(2026, 11, 9), "", 1.0, 2),
        (date(2026, 11, 30), "", 0.0, 1),
    ]


def test_corrections_by_category_and_channel(month):
    def week(by):
        return figures(
            t.trends("corrections", by=by, period="week", start=NOV[0], end=NOV[1], scope=ALL),
            "value",
        )

    nov2 = date(2026, 11, 2)
    assert week("category") == [(nov2, "device", 1.0), (nov2, "forgot", 2.0)]
    assert week("channel") == [(nov2, "mobile", 1.0), (nov2, "web", 2.0)]
    assert week("all")[0] == (nov2, "", 3.0)


def test_lead_time_percentiles_and_sla(month):
    (point,) = t.trends("lead_time", period="week", start=NOV[0], end=NOV[1], scope=ALL)
    # 2 h (within two working days) and 72 h (Mon → Thu: after the end of Wednesday)
    assert (point.period, point.value, point.p90, point.n) == (date(2026, 11, 2), 2.0, 72.0, 2)
    assert (point.within_sla, point.sla_days) == (0.5, 2)


def test_a_department_head_sees_only_their_department(month):
    scope = t.scope_for(month.head.user)
    assert scope == t.Scope.departments([month.department.pk])
    points = t.trends(
        "late", by="department", period="month", start=NOV[0], end=NOV[1], scope=scope
    )
    assert {p.key for p in points} == {"RD"}
    corrections = t.trends(
        "corrections", by="channel", period="month", start=NOV[0], end=NOV[1], scope=scope
    )
    assert sum(p.value for p in corrections) == 2
    assert all(
        r.department == "研发部"
        for r in t.drill("late", by="all", key="", start=NOV[0], end=NOV[1], scope=scope)
    )
    assert t.scope_for(month.employee.user) is None
    assert t.scope_for(month.hr.user) == ALL


def test_weekdays_and_hours(month):
    weekdays = t.anomaly_weekdays(NOV[0], NOV[1], ALL)
    assert weekdays == {1: 6.0, 2: 3.0, 3: 0.0, 4: 0.0, 5: 0.0, 6: 0.0, 7: 0.0}
    hours = t.anomaly_hours(NOV[0], NOV[1], ALL)
    assert {h: n for h, n in hours.items() if n} == {9: 2, 18: 1}


def test_drill_down_lists_the_people_and_days_behind_a_point(month):
    rows = t.drill(
        "late", by="all", key="", start=date(2026, 11, 2), end=date(2026, 11, 8), scope=ALL
    )
    assert [(r.employee_no, r.day, r.count) for r in rows] == [
        ("1003", date(2026, 11, 2), 2.0),
        ("1002", date(2026, 11, 2), 1.0),
        ("2001", date(2026, 11, 3), 1.0),
    ]
    monday = t.drill("late", by="all", key="", start=NOV[0], end=NOV[1], scope=ALL, weekday=1)
    assert sum(r.count for r in monday) == 6
    nine = t.drill("corrections", by="all", key="", start=NOV[0], end=NOV[1], scope=ALL, hour=9)
    assert {r.employee_no for r in nine} == {"1003", "2001"}
    web = t.drill("corrections", by="channel", key="web", start=NOV[0], end=NOV[1], scope=ALL)
    assert {r.employee_no for r in web} == {"1002", "2001"}
    field = t.drill("field", by="department", key="RD", start=NOV[0], end=NOV[1], scope=ALL)
    assert [(r.employee_no, r.day) for r in field] == [
        ("1002", date(2026, 11, 2)),
        ("1002", date(2026, 11, 9)),
    ]
    lead = t.drill(
        "lead_time", by="all", key="", start=date(2026, 11, 2), end=date(2026, 11, 8), scope=ALL
    )
    assert [r.count for r in lead] == [72.0, 2.0]


def test_missed_punch_rate_before_and_after_reminders(month):
    ReminderSent.objects.create(user=month.employee.user, kind="punch_in", day=date(2026, 11, 9))
    assert t.reminders_since() == (date(2026, 11, 9), "sent")
    result = t.before_after(ALL, today=date(2026, 11, 23))
    # before: weeks of Oct 26 and Nov 2 — 1 missing in 4 working days; after: Nov 9 and 16 — 1 in 2
    assert (result.since, result.window_weeks) == (date(2026, 11, 9), 2)
    assert (result.before, result.after, result.change) == (25.0, 50.0, 1.0)
    assert result.reached is False


@pytest.mark.parametrize(
    ("metric", "by", "period", "start", "end", "code"),
    [
        ("nope", "all", "week", NOV[0], NOV[1], t.BAD_METRIC),
        ("late", "channel", "week", NOV[0], NOV[1], t.BAD_BY),
        ("late", "all", "day", NOV[0], NOV[1], t.BAD_PERIOD),
        ("late", "all", "week", NOV[1], NOV[0], t.BAD_RANGE),
        ("late", "all", "week", None, NOV[0], t.BAD_RANGE),
        ("late", "all", "week", date(2020, 1, 1), date(2026, 1, 1), t.RANGE_TOO_LONG),
    ],
)
def test_bad_questions_are_refused_with_stable_codes(db, metric, by, period, start, end, code):
    with pytest.raises(DomainError) as refused:
        t.trends(metric, by=by, period=period, start=start, end=end, scope=ALL)
    assert refused.value.code == code


def test_one_query_per_metric_whatever_the_number_of_people(month, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # working days, the figures, the labels
        t.trends("late", by="department", period="week", start=NOV[0], end=NOV[1], scope=ALL)


def test_another_departments_rows_never_change_a_department_heads_figures(month):
    from tests.oversight.analytics_data import day, field_punch

    scope = t.scope_for(month.head.user)
    before = {
        m: t.trends(m, by="group", period="week", start=NOV[0], end=NOV[1], scope=scope)
        for m in t.METRICS
    }
    # 赵六 (SALES) has a terrible month
    for n in range(5, 28):
        day(month.stranger, date(2026, 11, n), "abnormal", late_count=3, missing_in_count=1)
        field_punch(month.stranger, datetime(2026, 11, n, 1, tzinfo=SH), f"x{n}")

    for metric, points in before.items():
        assert (
            t.trends(metric, by="group", period="week", start=NOV[0], end=NOV[1], scope=scope)
            == points
        )
