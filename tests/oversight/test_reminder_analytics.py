"""Issue 14 item 7, "Measure it": reminder sent → punched within the window, and the
missed-punch rate before and after each group switched reminders on. The fixture is
tests/oversight/reminder_data.py; every expected figure below is worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.oversight.analytics_data import day
from tests.oversight.reminder_data import TODAY, at, remind
from ztk.core.errors import DomainError
from ztk.notifications.models import ReminderSent
from ztk.oversight import trends as t
from ztk.punches.models import Punch

ALL = t.Scope.everyone()
NOV = (date(2026, 11, 1), date(2026, 11, 30))


def figures(points):
    return [(p.period, p.key, p.n, p.value, p.late, p.rate) for p in points]


def test_reminded_then_punched_on_time_per_group_and_week(reminders):
    points = t.trends(
        "reminder_punched", by="group", period="week", start=NOV[0], end=NOV[1], scope=ALL
    )
    assert figures(points) == [
        # STD, Nov 9–15: 张三 08:55 and 09:00:30 on time, 李四 09:20 late, 李四 no check-out;
        # 张三's reminder of Nov 12 was sent before slots were recorded: not counted
        (date(2026, 11, 9), "STD", 4, 2.0, 1, 50.0),
        # STD, Nov 16–22: 张三 out 18:30 on time; 李四 only a correction (none);
        # 李四 09:01 (the 08:58 was voided) late
        (date(2026, 11, 16), "STD", 3, 1.0, 1, 33.3),
        (date(2026, 11, 16), "WH", 1, 1.0, 0, 100.0),  # 赵六 08:59
        (date(2026, 11, 23), "WH", 2, 1.0, 0, 50.0),  # never on Nov 24; 21:59 check-out on time
    ]
    assert points[0].label == "标准工时组"


def test_per_month_for_everyone_and_by_department(reminders):
    month = t.trends(
        "reminder_punched", by="all", period="month", start=NOV[0], end=NOV[1], scope=ALL
    )
    assert figures(month) == [(date(2026, 11, 1), "", 10, 5.0, 2, 50.0)]
    by_dept = t.trends(
        "reminder_punched", by="department", period="month", start=NOV[0], end=NOV[1], scope=ALL
    )
    assert figures(by_dept) == [
        (date(2026, 11, 1), "RD", 7, 3.0, 2, 42.9),
        (date(2026, 11, 1), "SALES", 3, 2.0, 0, 66.7),
    ]


def test_drill_down_lists_who_was_reminded_and_did_not_punch_on_time(reminders):
    with translation.override("en"):
        rows = t.drill(
            "reminder_punched",
            by="group",
            key="STD",
            start=date(2026, 11, 9),
            end=date(2026, 11, 22),
            scope=ALL,
        )
    assert [(r.employee_no, r.day, r.detail) for r in rows] == [
        ("1003", date(2026, 11, 10), "check-in: late"),
        ("1003", date(2026, 11, 11), "check-out: no punch in the window"),
        ("1003", date(2026, 11, 17), "check-in: no punch in the window"),
        ("1003", date(2026, 11, 18), "check-in: late"),
    ]


def test_each_group_has_its_own_switch_on_date(reminders):
    since = t.reminders_since_by_group()
    assert since == {
        reminders.std.pk: (date(2026, 11, 9), "audit"),  # settings saved before the 1st sent
        reminders.wh.pk: (date(2026, 11, 18), "sent"),
    }


def test_missed_punch_rate_before_and_after_per_group(reminders):
    found = {g.key: g.result for g in t.before_after_by_group(ALL, today=TODAY)}
    std, wh = found["STD"], found["WH"]
    # STD switched on Mon Nov 9; 4 whole weeks to Sun Dec 6, so Oct 12 – Nov 8 before:
    # 2 missing slots in 4 working days (Oct 5 lies before the window) = 50.0; after:
    # 1 missing in 5 working days (the rest day not counted) = 20.0; −60 %: reached.
    assert (std.since, std.window_weeks) == (date(2026, 11, 9), 4)
    assert (std.before, std.before_days, std.after, std.after_days) == (50.0, 4, 20.0, 5)
    assert (std.change, std.reached) == (-0.6, True)
    # WH's first reminder on Wed Nov 18: the first whole week is Nov 23, 2 weeks each side.
    # Before 1 in 4 = 25.0, after 1 in 3 = 33.33: a rise of a third, not reached.
    assert (wh.since, wh.window_weeks) == (date(2026, 11, 18), 2)
    assert (wh.before, wh.before_days, wh.after, wh.after_days) == (25.0, 4, 33.33, 3)
    assert (wh.change, wh.reached) == (0.333, False)


def test_before_after_as_trend_points(reminders):
    points = t.trends(
        "reminder_before_after", by="group", period="week", start=NOV[0], end=TODAY, scope=ALL
    )
    assert [(p.key, p.side, p.period, p.value, p.days, p.rate, p.reached) for p in points] == [
        ("STD", "before", date(2026, 10, 12), 2.0, 4, 50.0, True),
        ("STD", "after", date(2026, 11, 9), 1.0, 5, 20.0, True),
        ("WH", "before", date(2026, 11, 9), 1.0, 4, 25.0, False),
        ("WH", "after", date(2026, 11, 23), 1.0, 3, 33.33, False),
    ]
    with pytest.raises(DomainError) as refused:
        t.trends("reminder_before_after", by="department", start=NOV[0], end=TODAY, scope=ALL)
    assert refused.value.code == t.BAD_BY
    with pytest.raises(DomainError) as refused:
        t.trends("reminder_before_after", period="month", start=NOV[0], end=TODAY, scope=ALL)
    assert refused.value.code == t.BAD_PERIOD


def test_a_department_head_sees_only_their_people(reminders):
    scope = t.scope_for(reminders.org.head.user)  # RD: 张三 and 李四, group STD
    points = t.trends(
        "reminder_punched", by="group", period="month", start=NOV[0], end=NOV[1], scope=scope
    )
    assert figures(points) == [(date(2026, 11, 1), "STD", 7, 3.0, 2, 42.9)]
    assert [g.key for g in t.before_after_by_group(scope, today=TODAY)] == ["STD"]
    rows = t.drill("reminder_punched", by="all", key="", start=NOV[0], end=NOV[1], scope=scope)
    assert {r.employee_no for r in rows} == {"1003"}


def test_a_few_queries_whatever_the_number_of_groups(reminders, django_assert_max_num_queries):
    # the figures and the labels (PostgreSQL: + a savepoint, SET LOCAL jit = off, release)
    with django_assert_max_num_queries(5):
        t.trends("reminder_punched", by="group", period="week", start=NOV[0], end=NOV[1], scope=ALL)
    # the company zone, the groups, the settings' saves, the first sent, the days
    with django_assert_max_num_queries(5):
        t.before_after_by_group(ALL, today=TODAY)


class Rollback(Exception):
    """Raised at the end of an example to undo its rows."""


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    extra=st.lists(
        st.tuples(
            st.integers(0, 40),  # day after Oct 5
            st.sampled_from(["punch_in", "punch_out"]),
            st.sampled_from([None, (8, 0), (9, 0), (9, 30), (12, 0), (19, 0), (23, 0)]),
            st.integers(0, 2),  # missing slots of that day
        ),
        max_size=12,
    ),
)
def test_another_groups_data_never_changes_a_groups_figures(reminders, extra):
    """Anything happening to WH's people (reminders, punches, days, even its switch-on
    date moving earlier) leaves STD's figures exactly as they were."""

    def std():
        punched = [
            p
            for p in t.trends(
                "reminder_punched", by="group", period="week", start=NOV[0], end=NOV[1], scope=ALL
            )
            if p.key == "STD"
        ]
        result = {g.key: g.result for g in t.before_after_by_group(ALL, today=TODAY)}["STD"]
        return punched, result

    expected = std()
    s = reminders.org.stranger
    try:
        with transaction.atomic():
            days = set(s.days.values_list("day", flat=True))
            for n, (offset, kind, moment, missing) in enumerate(extra):
                d = date(2026, 10, 5) + timedelta(days=offset)
                sent = remind(s, d, kind)
                ReminderSent.objects.filter(pk=sent.pk).update(key=f"x{n}")
                if moment is not None:
                    Punch.objects.create(
                        employee=s, at=at(d, *moment), source="device", dedup_key=f"x{n}"
                    )
                if d not in days:
                    days.add(d)
                    day(s, d, "abnormal" if missing else "normal", missing_in_count=missing)
            assert std() == expected
            raise Rollback
    except Rollback:
        pass
