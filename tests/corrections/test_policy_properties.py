"""Properties of the correction rule check that must hold for any policy and facts.

The quota properties replay random sequences of submissions, withdrawals, rejections,
approvals and cancellations the way the service will: every accepted submission adds to
the count the next check sees, and freeing a place lowers it.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ztk.corrections import policy as p
from ztk.corrections.policy import Facts, Policy, check_submission

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 27)
SETTINGS = settings(max_examples=300, deadline=None)

CATEGORIES = ["forgot", "device_fault", "outing", "trip", "other", ""]
STATUSES = ["missing", "late", "early", "normal", "corrected", "manual", "exempt", "pending"]
ZONES = [
    SH,
    UTC,
    ZoneInfo("America/New_York"),
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-12)),
]

policies = st.builds(
    Policy,
    monthly_limit=st.integers(0, 10),
    window_days=st.integers(0, 400),
    window_mode=st.sampled_from(["calendar", "working"]),
    cutoff_day=st.none() | st.integers(1, 31),
    correctable=st.frozensets(st.sampled_from(sorted(p.CORRECTABLE_ANOMALIES))),
    min_reason_length=st.integers(0, 30),
    self_apply=st.booleans(),
    attachment_categories=st.frozensets(st.sampled_from(CATEGORIES)),
    categories=st.none() | st.frozensets(st.sampled_from(CATEGORIES)),
    expedite_allowed=st.booleans(),
    period_start_day=st.integers(1, 28),
)

# Anything that can be built: the whole date range, odd zones, any text.
aware = st.datetimes(timezones=st.sampled_from(ZONES))
any_facts = st.builds(
    Facts,
    employee_active=st.booleans(),
    on_behalf=st.booleans(),
    applicant_may_file_on_behalf=st.booleans(),
    day=st.dates(),
    slot_key=st.sampled_from(["in1", "out1", "in2", "out2", "in3", "out3", ""]) | st.text(),
    slot_status=st.none() | st.sampled_from(STATUSES) | st.text(max_size=5),
    slot_window_start=st.none() | aware,
    slot_window_end=st.none() | aware,
    slot_window_end_inclusive=st.booleans(),
    requested_time=aware,
    now=aware,
    working_days_after=st.lists(st.dates(), max_size=8).map(tuple),
    period_closed=st.booleans(),
    used_in_period=st.integers(0, 20),
    pending_for_slot=st.booleans(),
    category=st.sampled_from(CATEGORIES) | st.text(max_size=5),
    reason=st.text(max_size=20),
    attachment_count=st.integers(0, 3),
    expedited=st.booleans(),
    expedite_justification=st.text(max_size=10),
    quota_override=st.booleans(),
    counts_against_quota=st.booleans(),
    batch_index_in_period=st.integers(0, 5),
)


@st.composite
def clean_facts(draw) -> Facts:
    """A submission that breaks no rule of the default policy (before the quota)."""
    window_start = datetime(2026, 11, 27, 7, tzinfo=SH)
    requested = window_start + timedelta(minutes=draw(st.integers(0, 389)))
    last_moment = datetime(2026, 11, 30, 23, 59, 59, tzinfo=SH)
    now = requested + timedelta(
        seconds=draw(st.integers(0, int((last_moment - requested).total_seconds())))
    )
    on_behalf = draw(st.booleans())
    return Facts(
        employee_active=True,
        on_behalf=on_behalf,
        applicant_may_file_on_behalf=on_behalf,
        day=DAY,
        slot_key="in1",
        slot_status="missing",
        slot_window_start=window_start,
        slot_window_end=datetime(2026, 11, 27, 13, 30, tzinfo=SH),
        slot_window_end_inclusive=False,
        requested_time=requested.astimezone(draw(st.sampled_from(ZONES))),
        now=now,
        category=draw(st.sampled_from(CATEGORIES)),
        reason=draw(
            st.sampled_from(["忘记打卡了", "指纹识别失败", "forgot my card", "设备故障，无法打卡"])
        ),
        expedited=draw(st.booleans()),
        expedite_justification="今天核算工资",
    )


def codes(policy: Policy, facts: Facts) -> list[str]:
    return [r.code for r in check_submission(policy, facts)]


# --------------------------------------------------------------------------- quota

operations = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.integers(1, 4)),
        st.tuples(st.sampled_from(["withdraw", "reject", "approve", "cancel"]), st.just(0)),
    ),
    max_size=40,
)


@SETTINGS
@given(limit=st.integers(1, 5), ops=operations, facts=clean_facts())
def test_pending_plus_approved_never_exceed_the_limit(limit, ops, facts):
    policy = Policy(monthly_limit=limit)
    pending = approved = 0
    for op, size in ops:
        if op == "submit":
            # A multi-item submission is all or nothing; each item sees the earlier ones.
            results = [
                codes(
                    policy,
                    dataclasses.replace(
                        facts, used_in_period=pending + approved, batch_index_in_period=index
                    ),
                )
                for index in range(size)
            ]
            if all(not r for r in results):
                pending += size
            else:
                assert pending + approved + size > limit
                assert all(r in ([], [p.MONTHLY_LIMIT_REACHED]) for r in results)
        elif op in ("withdraw", "reject") and pending:
            pending -= 1
        elif op == "approve" and pending:
            pending, approved = pending - 1, approved + 1
        elif op == "cancel" and approved:
            approved -= 1
        assert pending + approved <= limit


@SETTINGS
@given(
    limit=st.integers(1, 10),
    data=st.data(),
    facts=clean_facts(),
    how=st.sampled_from(["withdrawn", "rejected", "cancelled"]),
)
def test_freed_places_can_be_used_again(limit, data, facts, how):
    # given: the period is full, and that is the only problem
    policy = Policy(monthly_limit=limit)
    full = dataclasses.replace(facts, used_in_period=limit)
    assert codes(policy, full) == [p.MONTHLY_LIMIT_REACHED]
    # when: some pending or approved requests are withdrawn, rejected or cancelled
    freed = data.draw(st.integers(1, limit), label=f"{how} requests")
    # then
    assert codes(policy, dataclasses.replace(full, used_in_period=limit - freed)) == []


@SETTINGS
@given(facts=clean_facts(), used=st.integers(0, 100))
def test_no_limit_and_override_never_refuse_for_quota(facts, used):
    many = dataclasses.replace(facts, used_in_period=used)
    assert codes(Policy(monthly_limit=0), many) == []
    assert codes(Policy(), dataclasses.replace(many, quota_override=True)) == []
    assert codes(Policy(), dataclasses.replace(many, counts_against_quota=False)) == []


# --------------------------------------------------------------------------- purity


@SETTINGS
@given(cases=st.lists(st.tuples(policies, any_facts), min_size=1, max_size=5))
def test_result_never_depends_on_order_of_evaluation(cases):
    forward = [check_submission(policy, facts) for policy, facts in cases]
    backward = [check_submission(policy, facts) for policy, facts in reversed(cases)]
    assert forward == backward[::-1]
    again = [check_submission(policy, dataclasses.replace(facts)) for policy, facts in cases]
    assert forward == again


@SETTINGS
@given(policy=policies, facts=any_facts)
def test_never_raises_and_reports_each_code_once_in_documented_order(policy, facts):
    refusals = check_submission(policy, facts)
    positions = [p.CODES.index(r.code) for r in refusals]
    assert positions == sorted(set(positions))
    for refusal in refusals:
        assert all(isinstance(v, str | int) for v in refusal.params.values())


@SETTINGS
@given(policy=policies, facts=any_facts, ahead=st.timedeltas(min_value=timedelta(microseconds=1)))
def test_a_time_in_the_future_is_always_refused(policy, facts, ahead):
    try:
        future = facts.now + ahead
    except OverflowError:
        assume(False)
    refusals = codes(policy, dataclasses.replace(facts, requested_time=future))
    assert p.FUTURE_TIME in refusals


@SETTINGS
@given(policy=policies, facts=any_facts)
def test_a_time_not_after_now_is_never_refused_as_future(policy, facts):
    assume(facts.requested_time <= facts.now)
    assert p.FUTURE_TIME not in codes(policy, facts)


@SETTINGS
@given(policy=policies, facts=any_facts)
def test_accepted_only_when_every_rule_passes(policy, facts):
    """An empty list means allowed: spot-check the rules people care most about."""
    if check_submission(policy, facts):
        return
    assert facts.employee_active
    assert not facts.period_closed
    assert facts.requested_time <= facts.now
    assert facts.slot_status in policy.correctable
    assert not facts.pending_for_slot
    if policy.monthly_limit and facts.counts_against_quota and not facts.quota_override:
        assert facts.used_in_period + facts.batch_index_in_period < policy.monthly_limit
