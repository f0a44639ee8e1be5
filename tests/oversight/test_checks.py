"""The finding rules (ztk/oversight/checks.py) on hand-written rows: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ztk.oversight import checks
from ztk.oversight.checks import (
    CorrectionRow,
    DecisionRow,
    Evidence,
    Limits,
    OperatorRow,
    PunchRow,
)

OCT = (date(2026, 10, 1), date(2026, 10, 31))
NOV = (date(2026, 11, 1), date(2026, 11, 30))
SEP = (date(2026, 9, 1), date(2026, 9, 30))
LIMITS = Limits()


def t(day: date, hh: int = 9, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC)


def corrections(employee: int, n: int, period=NOV, *, group: int = 1, start_id: int = 0, **kw):
    return [
        CorrectionRow(
            id=start_id + i,
            employee_id=employee,
            group_id=group,
            period_start=period[0],
            day=period[0] + timedelta(days=i % 28),
            created_at=t(period[0] + timedelta(days=i % 28), 10),
            **kw,
        )
        for i in range(n)
    ]


# --- frequent correctors ------------------------------------------------------------------


def test_percentile_is_nearest_rank():
    assert checks.percentile([], 95) == 0
    assert checks.percentile([5], 95) == 5
    assert checks.percentile(list(range(1, 21)), 95) == 19  # 19 of 20 values ≤ 19
    assert checks.percentile([0] * 19 + [12], 95) == 0


def test_percentile_without_the_person_judged():
    ordered = [0, 0, 0, 2, 6]
    assert checks.percentile_without(ordered, 6, 95) == 2  # the others: 0 0 0 2
    assert checks.percentile_without(ordered, 2, 95) == 6  # the others: 0 0 0 6
    assert checks.percentile_without(ordered, 0, 50) == 0  # the others: 0 0 2 6
    assert checks.percentile_without([4], 4, 95) == 0
    for values in ([1, 2, 3, 4, 5, 5, 9], [0] * 5 + [3] * 4, [7, 7]):
        for i, value in enumerate(values):
            others = values[:i] + values[i + 1 :]
            for pct in (50, 90, 95, 100):
                assert checks.percentile_without(sorted(values), value, pct) == checks.percentile(
                    others, pct
                )


def test_frequent_corrector_above_the_groups_95th_percentile():
    # twenty people in group 1: employee 1 filed 6, employee 2 filed 2, the rest none
    members = {1: list(range(1, 21))}
    rows = corrections(1, 6) + corrections(2, 2, start_id=100)

    hits = checks.frequent_correctors(
        rows, periods=[NOV], members=members, monthly_limits={1: 0}, limits=LIMITS
    )

    assert [(h.employee_id, h.params["count"], h.severity) for h in hits] == [(1, 6, "high")]
    (hit,) = hits
    assert hit.key == "frequent_corrector:e1:2026-11-01"
    assert hit.params["group_percentile_value"] == 2  # of the 19 others: 2
    assert [e.id for e in hit.evidence] == list(range(6))


def test_frequent_corrector_small_group_against_the_others():
    # seven people: the outlier is judged against the six others, not against himself
    members = {1: list(range(1, 8))}
    rows = corrections(1, 3) + corrections(2, 1, start_id=100)

    hits = checks.frequent_correctors(
        rows, periods=[NOV], members=members, monthly_limits={1: 0}, limits=LIMITS
    )

    assert [(h.employee_id, h.params["group_percentile_value"]) for h in hits] == [(1, 1)]


def test_frequent_corrector_needs_the_minimum_count():
    members = {1: list(range(1, 21))}
    rows = corrections(1, 2)  # above everyone else (0), but fewer than 3

    assert (
        checks.frequent_correctors(
            rows, periods=[NOV], members=members, monthly_limits={1: 0}, limits=LIMITS
        )
        == []
    )


def test_frequent_corrector_at_the_limit_three_periods_running():
    # a small group where everyone corrects a lot: no outlier, but employee 1 has used
    # the whole monthly limit (3) in September, October and November
    members = {1: [1, 2]}
    rows = (
        corrections(1, 3, SEP)
        + corrections(1, 3, OCT, start_id=10)
        + corrections(1, 3, NOV, start_id=20)
        + corrections(2, 3, OCT, start_id=30)
        + corrections(2, 3, NOV, start_id=40)
    )

    hits = checks.frequent_correctors(
        rows,
        periods=[SEP, OCT, NOV],
        members=members,
        monthly_limits={1: 3},
        limits=LIMITS,
        check=[NOV[0]],
    )

    assert [(h.employee_id, h.params["streak"], h.severity) for h in hits] == [
        (1, [3, 3, 3], "high")
    ]


# --- rubber-stamp approvers ---------------------------------------------------------------


def decision(i: int, approver: int, at: datetime, seconds: int, **kw) -> DecisionRow:
    return DecisionRow(
        id=i,
        request_id=1000 + i,
        approver_id=approver,
        at=at,
        approved=kw.pop("approved", True),
        assigned_at=at - timedelta(seconds=seconds),
        period_start=NOV[0],
        **kw,
    )


def test_rubber_stamp_fast_and_in_bulk():
    day = date(2026, 11, 10)
    # approver 7 approves 12 requests 2 s apart, each 3 s after it reached him;
    # approver 8 takes an hour each and rejects a third of them
    quick = [decision(i, 7, t(day, 9, 0, 2 * i), 3) for i in range(12)]
    careful = [
        decision(100 + i, 8, t(day, 10 + i % 8, 0), 3600, approved=i % 3 != 0) for i in range(12)
    ]

    hits = checks.rubber_stamp_approvers(quick + careful, periods=[NOV], limits=LIMITS)

    (hit,) = hits
    assert (hit.user_id, hit.params["triggers"], hit.severity) == (7, ["fast", "bulk"], "high")
    assert hit.params["approval_rate"] == 1.0
    assert hit.params["median_seconds"] == 3
    assert hit.params["bulk_decisions"] == 11
    assert hit.key == "rubber_stamp:u7:2026-11-01"


def test_rubber_stamp_approval_without_required_proof_counts_alone():
    day = date(2026, 11, 10)
    rows = [decision(1, 9, t(day), 7200, needs_proof=True, has_proof=False)]
    rows += [decision(2, 9, t(day, 11), 7200, needs_proof=True, has_proof=True)]

    (hit,) = checks.rubber_stamp_approvers(rows, periods=[NOV], limits=LIMITS)

    assert hit.params["triggers"] == ["no_proof"]
    assert hit.params["no_proof_approvals"] == 1
    assert [(e.id, e.tag) for e in hit.evidence][0] == (1001, "no_proof")


def test_rubber_stamp_few_decisions_are_not_judged():
    day = date(2026, 11, 10)
    rows = [decision(i, 7, t(day, 9, 0, i), 1) for i in range(5)]
    assert checks.rubber_stamp_approvers(rows, periods=[NOV], limits=LIMITS) == []


# --- cut-off clustering -------------------------------------------------------------------


def test_cutoff_cluster_counts_requests_in_the_last_hours():
    deadline = t(date(2026, 12, 1), 0)
    late = [
        CorrectionRow(
            i, 5, 1, NOV[0], date(2026, 11, 3 + i), deadline - timedelta(hours=2 + i), "", deadline
        )
        for i in range(3)
    ]
    early = CorrectionRow(9, 5, 1, NOV[0], date(2026, 11, 2), t(date(2026, 11, 3)), "", deadline)
    other = [
        CorrectionRow(20 + i, 6, 1, NOV[0], date(2026, 11, 3), t(date(2026, 11, 4)), "", deadline)
        for i in range(4)
    ]

    hits = checks.cutoff_clusters([*late, early, *other], periods=[NOV], limits=LIMITS)

    (hit,) = hits
    assert (hit.employee_id, hit.params["late"], hit.params["total"]) == (5, 3, 4)
    assert hit.params["share"] == 0.75
    assert [e.id for e in hit.evidence] == [2, 1, 0]  # in the order they were filed


# --- repeated reasons ---------------------------------------------------------------------


def test_normalise_reason():
    assert checks.normalise_reason("  9点 忘记打卡！") == checks.normalise_reason("8点忘记打卡!")
    assert checks.normalise_reason("ＡＢＣ abc") == "abcabc"


def test_repeated_reason_across_people():
    rows = [
        CorrectionRow(
            i,
            10 + i,
            1,
            NOV[0],
            date(2026, 11, 5),
            t(date(2026, 11, 5)),
            f"{i}号门禁坏了，无法打卡",
        )
        for i in range(4)
    ]
    rows.append(CorrectionRow(9, 30, 1, NOV[0], date(2026, 11, 5), t(date(2026, 11, 5)), "堵车"))

    (hit,) = checks.repeated_reasons(rows, periods=[NOV], limits=LIMITS)

    assert (hit.params["requests"], hit.params["people"], hit.severity) == (4, 4, "medium")
    assert hit.employee_id is None
    assert hit.params["normalised"] == "0号门禁坏了无法打卡"


def test_repeated_reason_by_one_person():
    rows = [
        CorrectionRow(
            i, 3, 1, NOV[0], date(2026, 11, 1 + i), t(date(2026, 11, 1 + i)), "系统故障没打上"
        )
        for i in range(8)
    ]
    (hit,) = checks.repeated_reasons(rows, periods=[NOV], limits=LIMITS)
    assert (hit.employee_id, hit.params["people"], hit.severity) == (3, 1, "low")


# --- buddy punching -----------------------------------------------------------------------


def punch(i: int, employee: int, at: datetime, place: str = "device:ZK1") -> PunchRow:
    return PunchRow(i, employee, at, place, at.date(), NOV[0])


def test_buddy_punch_same_terminal_seconds_apart_on_three_days():
    rows = []
    for n, day in enumerate([date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]):
        rows.append(punch(10 * n, 1, t(day, 8, 55, 0)))
        rows.append(punch(10 * n + 1, 2, t(day, 8, 55, 4)))  # 4 s later
        rows.append(punch(10 * n + 2, 3, t(day, 8, 58, 0)))  # three minutes later: a queue
        rows.append(punch(10 * n + 3, 4, t(day, 8, 55, 6), "device:ZK2"))  # another terminal

    (hit,) = checks.buddy_punches(rows, periods=[NOV], limits=LIMITS)

    assert (hit.employee_id, hit.other_employee_id, hit.params["days"]) == (1, 2, 3)
    assert hit.key == "buddy_punch:e1-e2:2026-11-01"
    assert [e.id for e in hit.evidence] == [0, 1, 10, 11, 20, 21]
    assert hit.evidence[1].note == "device:ZK1 +4s"


def test_buddy_punch_neighbours_in_a_queue_now_and_then_are_not_buddies():
    # twenty working days at the same terminal; three of them 5 s apart by chance
    rows = []
    for n in range(20):
        day = date(2026, 11, 2) + timedelta(days=n)
        rows.append(punch(10 * n, 1, t(day, 8, 40)))
        rows.append(punch(10 * n + 1, 2, t(day, 8, 40, 5) if n < 3 else t(day, 8, 50)))

    assert checks.buddy_punches(rows, periods=[NOV], limits=LIMITS) == []
    (hit,) = checks.buddy_punches(rows, periods=[NOV], limits=Limits(buddy_min_share=0.15))
    assert (hit.params["days"], hit.params["days_present"], hit.params["share"]) == (3, 20, 0.15)


def test_buddy_punch_two_days_is_not_enough():
    rows = []
    for n, day in enumerate([date(2026, 11, 2), date(2026, 11, 3)]):
        rows += [punch(10 * n, 1, t(day, 8, 55)), punch(10 * n + 1, 2, t(day, 8, 55, 3))]
    assert checks.buddy_punches(rows, periods=[NOV], limits=LIMITS) == []


# --- HR activity --------------------------------------------------------------------------


def op(i: int, operator: int, kind: str, at: datetime, own: bool = False) -> OperatorRow:
    ref = Evidence(checks.AUDIT if kind in (checks.REOPEN, checks.CHANGE) else checks.PUNCH, i, at)
    return OperatorRow(operator, kind, at, at.replace(tzinfo=None), NOV[0], ref, own)


def test_hr_activity_own_team_reopenings_and_off_hours():
    wed = date(2026, 11, 4)
    sat = date(2026, 11, 7)
    rows = [
        op(1, 50, checks.MANUAL_ADD, t(wed, 10), own=True),
        op(2, 50, checks.MANUAL_ADD, t(wed, 10, 5)),
        op(3, 50, checks.REOPEN, t(wed, 11)),
        *[op(10 + i, 50, checks.CHANGE, t(wed, 22, i)) for i in range(3)],  # 22:00: late
        *[op(20 + i, 50, checks.CHANGE, t(sat, 10, i)) for i in range(2)],  # a Saturday
        *[op(30 + i, 50, checks.CHANGE, t(wed, 14, i)) for i in range(9)],  # working hours
        op(40, 51, checks.MANUAL_ADD, t(wed, 10)),  # another operator, one ordinary add
    ]

    (hit,) = checks.hr_activity(rows, periods=[NOV], limits=LIMITS)

    assert hit.user_id == 50
    assert hit.params["triggers"] == ["own_team", "off_hours"]
    assert (hit.params["manual_adds"], hit.params["own_team"], hit.params["off_hours"]) == (2, 1, 5)
    assert hit.severity == "high"
    assert {e.id for e in hit.evidence if e.tag == "off_hours"} == {10, 11, 12, 20, 21}


def test_off_hours():
    assert checks.off_hours(datetime(2026, 11, 4, 7, 59), LIMITS)
    assert not checks.off_hours(datetime(2026, 11, 4, 8, 0), LIMITS)
    assert checks.off_hours(datetime(2026, 11, 4, 20, 0), LIMITS)
    assert checks.off_hours(datetime(2026, 11, 8, 12, 0), LIMITS)  # Sunday


# --- a property: another employee never changes one's own finding ------------------------

counts = st.integers(min_value=0, max_value=12)


@given(
    mine=counts,
    colleagues=st.lists(counts, min_size=1, max_size=15),
    stranger=counts,
    stranger_punch_second=st.integers(min_value=0, max_value=3600),
)
def test_an_unrelated_employee_never_changes_anothers_finding(
    mine, colleagues, stranger, stranger_punch_second
):
    """Adding someone in another attendance group, punching on another terminal and
    filing their own requests, leaves every finding about the others as it was."""
    members = {1: list(range(1, len(colleagues) + 2))}
    rows = corrections(1, mine)
    for n, c in enumerate(colleagues, start=2):
        rows += corrections(n, c, start_id=1000 * n)
    days = [date(2026, 11, d) for d in (2, 3, 4, 5)]
    punches = [punch(10 * i, 1, t(d, 8, 55)) for i, d in enumerate(days)]
    punches += [punch(10 * i + 1, 2, t(d, 8, 55, 3)) for i, d in enumerate(days)]

    def run(extra_rows, extra_members, extra_punches):
        everyone = {**members, **extra_members}
        return (
            checks.frequent_correctors(
                rows + extra_rows,
                periods=[NOV],
                members=everyone,
                monthly_limits={1: 3, 2: 3},
                limits=LIMITS,
            ),
            checks.cutoff_clusters(rows + extra_rows, periods=[NOV], limits=LIMITS),
            checks.buddy_punches(punches + extra_punches, periods=[NOV], limits=LIMITS),
        )

    before = run([], {}, [])
    outsider = 999
    after = run(
        corrections(outsider, stranger, group=2, start_id=900_000),
        {2: [outsider]},
        [
            punch(
                90_000 + i,
                outsider,
                t(d, 8, 55) + timedelta(seconds=stranger_punch_second),
                "device:ZK9",
            )
            for i, d in enumerate(days)
        ],
    )

    for old, new in zip(before, after, strict=True):
        assert [h for h in new if outsider not in (h.employee_id, h.other_employee_id)] == old
