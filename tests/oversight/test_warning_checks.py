"""The early-warning conditions (ztk/oversight/warning_checks.py) on hand-written rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from ztk.oversight import warning_checks as wc
from ztk.oversight.checks import Limits
from ztk.oversight.warning_checks import OverdueRow, QuotaRow, SilentRow, WindowCount

LIMITS = Limits()
NOV = (date(2026, 11, 1), date(2026, 11, 30))
WEEK = (date(2026, 11, 23), date(2026, 11, 29))


def quota(employee: int, used: int, limit: int = 3) -> QuotaRow:
    return QuotaRow(
        employee,
        NOV[0],
        NOV[1],
        limit,
        tuple(range(employee * 100, employee * 100 + used)),
        tuple(datetime(2026, 11, 1 + i, tzinfo=UTC) for i in range(used)),
    )


def test_close_to_the_limit():
    rows = [quota(1, 1), quota(2, 2), quota(3, 3), quota(4, 5), quota(5, 9, limit=0)]
    alerts = wc.close_to_limit(rows, limits=LIMITS)
    assert [(a.key, a.severity, a.params) for a in alerts] == [
        ("close_to_limit:e2:2026-11-01", "medium", {"used": 2, "limit": 3, "left": 1}),
        ("close_to_limit:e3:2026-11-01", "high", {"used": 3, "limit": 3, "left": 0}),
        ("close_to_limit:e4:2026-11-01", "high", {"used": 5, "limit": 3, "left": 0}),
    ]
    assert [e.id for e in alerts[0].evidence] == [200, 201]
    # a margin of 0: only at the limit
    assert [a.employee_id for a in wc.close_to_limit(rows, limits=Limits(warn_limit_margin=0))] == [
        3,
        4,
    ]


def test_the_key_is_one_per_employee_and_period():
    alerts = wc.close_to_limit([quota(2, 2), quota(2, 2)], limits=LIMITS)
    assert len({a.key for a in alerts}) == 1


def w(anomalies: int, days: int = 100) -> WindowCount:
    return WindowCount(anomalies, days)


def test_a_department_jump_against_its_own_history():
    windows = {
        10: [w(5), w(4), w(6), w(5), w(12)],  # 5 % usually, 12 % now: 2.4×
        11: [w(5), w(4), w(6), w(5), w(9)],  # 1.8×: not enough
        12: [w(0, 0), w(0, 0), w(0, 0), w(0, 0), w(9)],  # no history: never
        13: [w(0), w(0), w(0), w(0), w(4)],  # from nothing, but fewer than 5 anomalies
        14: [w(0), w(0), w(0), w(0), w(6)],  # from nothing to 6: high
    }
    days = {10: [(1, date(2026, 11, 24)), (2, date(2026, 11, 23))]}
    alerts = wc.department_jumps(windows, week=WEEK, last_days=days, limits=LIMITS)
    assert [(a.key, a.severity) for a in alerts] == [
        ("department_jump:d10:2026-11-23", "medium"),
        ("department_jump:d14:2026-11-23", "high"),
    ]
    first = alerts[0]
    assert first.params["rate"] == 0.12 and first.params["usual_rate"] == 0.05
    assert first.params["factor"] == 2.4
    assert [(e.kind, e.id, e.note) for e in first.evidence] == [
        ("day", 2, "2026-11-23"),
        ("day", 1, "2026-11-24"),
    ]


def test_a_department_jump_respects_the_factor_and_the_minimum():
    windows = {10: [w(5), w(5), w(12)]}  # 2.4× its usual rate

    def fires(**kw):
        return bool(wc.department_jumps(windows, week=WEEK, last_days={}, limits=Limits(**kw)))

    assert fires(warn_dept_factor=2.0)
    assert not fires(warn_dept_factor=3.0)
    assert not fires(warn_dept_min_anomalies=13)


@given(other=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 100)), min_size=2, max_size=6))
def test_another_department_never_changes_a_departments_warning(other):
    mine = {10: [w(5), w(4), w(6), w(5), w(12)]}
    alone = wc.department_jumps(mine, week=WEEK, last_days={}, limits=LIMITS)
    both = wc.department_jumps(
        {**mine, 20: [WindowCount(min(a, d), d) for a, d in other]},
        week=WEEK,
        last_days={},
        limits=LIMITS,
    )
    assert [a for a in both if a.department_id == 10] == alone


def test_overdue_steps_pile_up_per_approver():
    due = datetime(2026, 11, 20, tzinfo=UTC)
    rows = [OverdueRow(5, 100 + i, due) for i in range(3)]
    rows += [OverdueRow(6, 200 + i, due) for i in range(2)]
    rows.append(OverdueRow(5, 300, datetime(2026, 11, 18, tzinfo=UTC), is_correction=False))
    (alert,) = wc.overdue_pileups(rows, week=WEEK, limits=LIMITS)
    assert alert.key == "overdue_pileup:u5:2026-11-23"
    assert alert.params["overdue"] == 4
    assert alert.params["oldest_deadline"].startswith("2026-11-18")
    assert [e.id for e in alert.evidence] == [100, 101, 102]  # corrections are linked
    assert wc.overdue_pileups(rows, week=WEEK, limits=Limits(warn_overdue_min=0)) == []


def test_a_silent_terminal_is_one_warning_per_day():
    seen = datetime(2026, 11, 24, 6, tzinfo=UTC)
    alerts = wc.silent_terminals(
        [
            SilentRow(3, "SN-3", seen, date(2026, 11, 24)),
            SilentRow(4, "SN-4", None, date(2026, 11, 24)),
        ]
    )
    assert [(a.key, a.severity) for a in alerts] == [
        ("silent_terminal:t3:2026-11-24", "medium"),
        ("silent_terminal:t4:2026-11-24", "low"),
    ]
    assert alerts[0].evidence[0].kind == "device"
