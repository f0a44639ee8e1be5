"""The correction rule check, example by example; expected values are written by hand.

The base submission is a forgotten check-in (09:00) on Friday 27 November 2026, filed
the next morning: allowed under the default policy. Each case changes a few facts or
policy fields and lists every refusal it must produce, in order.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from ztk.corrections import policy as p
from ztk.corrections.messages import REFUSAL_MESSAGES, refusal_message
from ztk.corrections.policy import (
    Facts,
    Policy,
    Refusal,
    check_submission,
    cutoff_for,
    last_day_to_apply,
    reason_length,
)

SH = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


BASE = Facts(
    employee_active=True,
    on_behalf=False,
    applicant_may_file_on_behalf=False,
    day=date(2026, 11, 27),
    slot_key="in1",
    slot_status="missing",
    slot_window_start=at(11, 27, 7),
    slot_window_end=at(11, 27, 13, 30),
    slot_window_end_inclusive=False,
    requested_time=at(11, 27, 9),
    now=at(11, 28, 10),
    category="forgot",
    reason="忘记打卡了",
)
DEFAULT = Policy()
NOV = {"period_start": "2026-11-01", "period_end": "2026-11-30"}
IN1 = {"day": "2026-11-27", "slot": "in1"}
# The check-out of the same day: [13:30, 22:00], end included.
OUT1 = {
    "slot_key": "out1",
    "slot_window_start": at(11, 27, 13, 30),
    "slot_window_end": at(11, 27, 22),
    "slot_window_end_inclusive": True,
    "requested_time": at(11, 27, 18),
}
# 30 September 2026, then the National Day holiday 1–7 October; Saturday 10 October is a
# make-up working day (调休).
SEP30 = {
    "day": date(2026, 9, 30),
    "slot_window_start": at(9, 30, 7),
    "slot_window_end": at(9, 30, 13, 30),
    "requested_time": at(9, 30, 9),
    "working_days_after": (date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)),
}
NOV27_WORKING = (date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3))


def expired(last_day: str, mode: str = "calendar", days: int = 3, day: str = "2026-11-27"):
    return (
        p.WINDOW_EXPIRED,
        {"day": day, "last_day": last_day, "window_days": days, "window_mode": mode},
    )


def limit(used: int, limit: int = 3, period: dict | None = None):
    return (p.MONTHLY_LIMIT_REACHED, {"limit": limit, "used": used, **(period or NOV)})


CASES = [
    # id, policy, fact changes, expected refusals
    ("accepted", DEFAULT, {}, []),
    ("employee inactive", DEFAULT, {"employee_active": False}, [(p.EMPLOYEE_INACTIVE, {})]),
    # Who may apply.
    ("self-apply off", Policy(self_apply=False), {}, [(p.NOT_ALLOWED_TO_SELF_APPLY, {})]),
    (
        "self-apply off, supervisor files on behalf",
        Policy(self_apply=False),
        {"on_behalf": True, "applicant_may_file_on_behalf": True},
        [],
    ),
    (
        "on behalf without the right to",
        DEFAULT,
        {"on_behalf": True, "applicant_may_file_on_behalf": False},
        [(p.PERMISSION_DENIED, {})],
    ),
    # Period lock.
    (
        "period closed",
        DEFAULT,
        {"period_closed": True},
        [(p.PERIOD_CLOSED, {**NOV, "cutoff": ""})],
    ),
    # Calendar window: 27 Nov + 3 days = 30 Nov, across the month end.
    ("calendar window, last minute", DEFAULT, {"now": at(11, 30, 23, 59)}, []),
    (
        "calendar window expired in the next month",
        DEFAULT,
        {"now": at(12, 1, 0, 0)},
        [expired("2026-11-30")],
    ),
    ("window 0: same day", Policy(window_days=0), {"now": at(11, 27, 10)}, []),
    (
        "window 0: next day",
        Policy(window_days=0),
        {"now": at(11, 28, 0, 1)},
        [expired("2026-11-27", days=0)],
    ),
    # Working-day window: Fri 27 Nov → Mon 30 Nov, Tue 1 Dec, Wed 2 Dec.
    (
        "working window across the month end, last day",
        Policy(window_mode="working"),
        {"now": at(12, 2, 23, 59), "working_days_after": NOV27_WORKING},
        [],
    ),
    (
        "working window across the month end, expired",
        Policy(window_mode="working"),
        {"now": at(12, 3, 8), "working_days_after": NOV27_WORKING},
        [expired("2026-12-02", "working")],
    ),
    (
        "working window over the National Day holiday, last day",
        Policy(window_mode="working"),
        {**SEP30, "now": at(10, 10, 18)},
        [],
    ),
    (
        "working window over the National Day holiday, expired",
        Policy(window_mode="working"),
        {**SEP30, "now": at(10, 11, 9)},
        [expired("2026-10-10", "working", day="2026-09-30")],
    ),
    (
        "calendar window over the same holiday already expired",
        DEFAULT,
        {**SEP30, "now": at(10, 8, 9)},
        [expired("2026-10-03", day="2026-09-30")],
    ),
    (
        "working window with too few known working days fails closed",
        Policy(window_mode="working"),
        {"now": at(11, 30, 9), "working_days_after": NOV27_WORKING[:2]},
        [expired("?", "working")],
    ),
    # Cut-off day 2: November can be corrected until 2 December.
    (
        "cut-off day, last day",
        Policy(cutoff_day=2),
        {**OUT1, "day": date(2026, 11, 30), "now": at(12, 2, 18)}
        | {"slot_window_start": at(11, 30, 13, 30), "slot_window_end": at(11, 30, 22)}
        | {"requested_time": at(11, 30, 18)},
        [],
    ),
    (
        "cut-off passed while the window is still open",
        Policy(cutoff_day=2),
        {**OUT1, "day": date(2026, 11, 30), "now": at(12, 3, 9)}
        | {"slot_window_start": at(11, 30, 13, 30), "slot_window_end": at(11, 30, 22)}
        | {"requested_time": at(11, 30, 18)},
        [(p.PERIOD_CLOSED, {**NOV, "cutoff": "2026-12-02"})],
    ),
    (
        "cut-off and window both passed",
        Policy(cutoff_day=2),
        {**OUT1, "day": date(2026, 11, 30), "now": at(12, 4, 9)}
        | {"slot_window_start": at(11, 30, 13, 30), "slot_window_end": at(11, 30, 22)}
        | {"requested_time": at(11, 30, 18)},
        [
            (p.PERIOD_CLOSED, {**NOV, "cutoff": "2026-12-02"}),
            expired("2026-12-03", day="2026-11-30"),
        ],
    ),
    # Monthly limit.
    ("two used of three", DEFAULT, {"used_in_period": 2}, []),
    ("limit reached", DEFAULT, {"used_in_period": 3}, [limit(3)]),
    ("limit 0 means no limit", Policy(monthly_limit=0), {"used_in_period": 50}, []),
    ("HR override", DEFAULT, {"used_in_period": 3, "quota_override": True}, []),
    (
        "channel not counted (HR manual add)",
        DEFAULT,
        {"used_in_period": 7, "counts_against_quota": False},
        [],
    ),
    (
        "batch: second item still fits",
        DEFAULT,
        {"used_in_period": 1, "batch_index_in_period": 1},
        [],
    ),
    (
        "batch: third item would be the fourth",
        DEFAULT,
        {"used_in_period": 2, "batch_index_in_period": 1},
        [limit(3)],
    ),
    (
        "period start day 26: 27 Nov belongs to 26 Nov – 25 Dec",
        Policy(period_start_day=26),
        {"used_in_period": 3},
        [limit(3, period={"period_start": "2026-11-26", "period_end": "2026-12-25"})],
    ),
    (
        "period start day 26: limit in the October–November period",
        Policy(period_start_day=26, monthly_limit=1),
        {
            "day": date(2026, 11, 25),
            "slot_window_start": at(11, 25, 7),
            "slot_window_end": at(11, 25, 13, 30),
            "requested_time": at(11, 25, 9),
            "now": at(11, 26, 9),
            "used_in_period": 1,
        },
        [limit(1, limit=1, period={"period_start": "2026-10-26", "period_end": "2026-11-25"})],
    ),
    # The slot.
    (
        "no such slot",
        DEFAULT,
        {"slot_key": "in2", "slot_status": None, "slot_window_start": None}
        | {"slot_window_end": None},
        [(p.SLOT_NOT_FOUND, {"day": "2026-11-27", "slot": "in2"})],
    ),
    *[
        (
            f"slot already {status}",
            DEFAULT,
            {"slot_status": status},
            [(p.SLOT_ALREADY_PUNCHED, {**IN1, "status": status})],
        )
        for status in ("normal", "corrected", "manual", "exempt")
    ],
    (
        "late is not correctable by default",
        DEFAULT,
        {"slot_status": "late"},
        [(p.NOT_AN_ANOMALY, {**IN1, "status": "late"})],
    ),
    (
        "early is not correctable by default",
        DEFAULT,
        {**OUT1, "slot_status": "early"},
        [(p.NOT_AN_ANOMALY, {"day": "2026-11-27", "slot": "out1", "status": "early"})],
    ),
    (
        "late made correctable",
        Policy(correctable=frozenset({"missing", "late"})),
        {"slot_status": "late"},
        [],
    ),
    (
        "late correctable, early still not",
        Policy(correctable=frozenset({"missing", "late"})),
        {**OUT1, "slot_status": "early"},
        [(p.NOT_AN_ANOMALY, {"day": "2026-11-27", "slot": "out1", "status": "early"})],
    ),
    (
        "missing not listed as correctable",
        Policy(correctable=frozenset({"late", "early"})),
        {},
        [(p.NOT_AN_ANOMALY, {**IN1, "status": "missing"})],
    ),
    (
        "punch window still open",
        DEFAULT,
        {"slot_status": "pending", "now": at(11, 27, 12)},
        [(p.NOT_AN_ANOMALY, {**IN1, "status": "pending"})],
    ),
    (
        "one open request per slot",
        DEFAULT,
        {"pending_for_slot": True},
        [(p.DUPLICATE_PENDING, IN1)],
    ),
    # The requested time.
    (
        "future time",
        DEFAULT,
        {"now": at(11, 27, 8, 30), "slot_status": "pending"},
        [
            (p.NOT_AN_ANOMALY, {**IN1, "status": "pending"}),
            (p.FUTURE_TIME, {"requested": "2026-11-27 09:00", "now": "2026-11-27 08:30"}),
        ],
    ),
    (
        "a day still to come",
        DEFAULT,
        {"now": at(11, 26, 20), "slot_status": "pending"},
        [
            (p.FUTURE_DAY, {"day": "2026-11-27", "today": "2026-11-26"}),
            (p.NOT_AN_ANOMALY, {**IN1, "status": "pending"}),
            (p.FUTURE_TIME, {"requested": "2026-11-27 09:00", "now": "2026-11-26 20:00"}),
        ],
    ),
    (
        "future by one second, same minute shown",
        DEFAULT,
        {"now": at(11, 27, 9), "requested_time": at(11, 27, 9).replace(second=1)},
        [(p.FUTURE_TIME, {"requested": "2026-11-27 09:00", "now": "2026-11-27 09:00"})],
    ),
    ("window start is included", DEFAULT, {"requested_time": at(11, 27, 7)}, []),
    (
        "before the window",
        DEFAULT,
        {"requested_time": at(11, 27, 6, 59)},
        [
            (
                p.TIME_OUTSIDE_SLOT_WINDOW,
                {**IN1, "requested": "2026-11-27 06:59"}
                | {"start": "2026-11-27 07:00", "end": "2026-11-27 13:30"},
            )
        ],
    ),
    (
        "check-in window end is excluded",
        DEFAULT,
        {"requested_time": at(11, 27, 13, 30)},
        [
            (
                p.TIME_OUTSIDE_SLOT_WINDOW,
                {**IN1, "requested": "2026-11-27 13:30"}
                | {"start": "2026-11-27 07:00", "end": "2026-11-27 13:30"},
            )
        ],
    ),
    ("check-out window end is included", DEFAULT, {**OUT1, "requested_time": at(11, 27, 22)}, []),
    (
        "time given in UTC is the same instant (01:00 UTC = 09:00 Shanghai)",
        DEFAULT,
        {"requested_time": datetime(2026, 11, 27, 1, 0, tzinfo=UTC)},
        [],
    ),
    (
        "time outside the window is shown in the group's zone",
        DEFAULT,
        {"requested_time": datetime(2026, 11, 26, 22, 0, tzinfo=UTC)},
        [
            (
                p.TIME_OUTSIDE_SLOT_WINDOW,
                {**IN1, "requested": "2026-11-27 06:00"}
                | {"start": "2026-11-27 07:00", "end": "2026-11-27 13:30"},
            )
        ],
    ),
    # Category, reason, attachment, expedite.
    (
        "unknown category",
        Policy(categories=frozenset({"forgot", "device_fault"})),
        {"category": "holiday_mood"},
        [(p.UNKNOWN_CATEGORY, {"category": "holiday_mood"})],
    ),
    (
        "no category when the list is fixed",
        Policy(categories=frozenset({"forgot"})),
        {"category": ""},
        [(p.UNKNOWN_CATEGORY, {"category": ""})],
    ),
    ("any category when no list is set", DEFAULT, {"category": "anything"}, []),
    (
        "four Chinese characters are too short",
        DEFAULT,
        {"reason": "忘记打卡"},
        [(p.REASON_TOO_SHORT, {"min": 5, "length": 4})],
    ),
    (
        "surrounding whitespace does not count",
        DEFAULT,
        {"reason": "  忘记打卡 \n\u3000"},
        [(p.REASON_TOO_SHORT, {"min": 5, "length": 4})],
    ),
    ("five characters with an inner space", DEFAULT, {"reason": "I for"}, []),
    ("empty reason", DEFAULT, {"reason": ""}, [(p.REASON_TOO_SHORT, {"min": 5, "length": 0})]),
    ("no minimum", Policy(min_reason_length=0), {"reason": ""}, []),
    (
        "category needs an attachment",
        Policy(attachment_categories=frozenset({"device_fault"})),
        {"category": "device_fault", "reason": "指纹机坏了"},
        [(p.ATTACHMENT_REQUIRED, {"category": "device_fault"})],
    ),
    (
        "category with its attachment",
        Policy(attachment_categories=frozenset({"device_fault"})),
        {"category": "device_fault", "reason": "指纹机坏了", "attachment_count": 1},
        [],
    ),
    (
        "expedite with justification",
        DEFAULT,
        {"expedited": True, "expedite_justification": "今天核算工资"},
        [],
    ),
    (
        "expedite without justification",
        DEFAULT,
        {"expedited": True, "expedite_justification": "  "},
        [(p.JUSTIFICATION_REQUIRED, {})],
    ),
    (
        "expedite not allowed",
        Policy(expedite_allowed=False),
        {"expedited": True, "expedite_justification": "今天核算工资"},
        [(p.EXPEDITE_NOT_ALLOWED, {})],
    ),
    # Everything at once comes back in the documented order.
    (
        "every refusal, in order",
        Policy(
            self_apply=False,
            cutoff_day=1,
            categories=frozenset({"forgot"}),
            attachment_categories=frozenset({"other"}),
            expedite_allowed=False,
        ),
        {
            "employee_active": False,
            "now": at(12, 5, 9),
            "used_in_period": 3,
            "slot_status": "normal",
            "pending_for_slot": True,
            "requested_time": at(12, 6, 9),
            "category": "other",
            "reason": "忘了",
            "expedited": True,
        },
        [
            (p.EMPLOYEE_INACTIVE, {}),
            (p.NOT_ALLOWED_TO_SELF_APPLY, {}),
            (p.PERIOD_CLOSED, {**NOV, "cutoff": "2026-12-01"}),
            expired("2026-11-30"),
            limit(3),
            (p.SLOT_ALREADY_PUNCHED, {**IN1, "status": "normal"}),
            (p.DUPLICATE_PENDING, IN1),
            (p.FUTURE_TIME, {"requested": "2026-12-06 09:00", "now": "2026-12-05 09:00"}),
            (
                p.TIME_OUTSIDE_SLOT_WINDOW,
                {**IN1, "requested": "2026-12-06 09:00"}
                | {"start": "2026-11-27 07:00", "end": "2026-11-27 13:30"},
            ),
            (p.UNKNOWN_CATEGORY, {"category": "other"}),
            (p.REASON_TOO_SHORT, {"min": 5, "length": 2}),
            (p.ATTACHMENT_REQUIRED, {"category": "other"}),
            (p.EXPEDITE_NOT_ALLOWED, {}),
        ],
    ),
]


@pytest.mark.parametrize(
    ("policy", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_check_submission(policy, changes, expected):
    # given
    facts = dataclasses.replace(BASE, **changes)
    # when
    refusals = check_submission(policy, facts)
    # then
    assert [(r.code, dict(r.params)) for r in refusals] == expected


def test_every_code_has_an_example():
    seen = {code for _, _, _, expected in CASES for code, _ in expected}
    assert seen == set(p.CODES)


@pytest.mark.parametrize(
    ("policy", "day", "expected"),
    [
        (Policy(), date(2026, 11, 10), None),
        (Policy(cutoff_day=5), date(2026, 11, 10), date(2026, 12, 5)),
        (Policy(cutoff_day=5), date(2026, 12, 31), date(2027, 1, 5)),
        (Policy(cutoff_day=5, period_start_day=26), date(2026, 11, 25), date(2026, 12, 5)),
        (Policy(cutoff_day=5, period_start_day=26), date(2026, 11, 26), date(2027, 1, 5)),
        (Policy(cutoff_day=31), date(2026, 1, 15), date(2026, 2, 28)),
        (Policy(cutoff_day=31), date(2024, 1, 15), date(2024, 2, 29)),
        (Policy(cutoff_day=31), date(2026, 2, 15), date(2026, 3, 31)),
    ],
)
def test_cutoff_for(policy, day, expected):
    assert cutoff_for(policy, day) == expected


@pytest.mark.parametrize(
    ("policy", "day", "working", "expected"),
    [
        (Policy(), date(2026, 11, 27), (), date(2026, 11, 30)),
        (Policy(window_days=7), date(2026, 12, 28), (), date(2027, 1, 4)),
        (Policy(window_days=0, window_mode="working"), date(2026, 11, 28), (), date(2026, 11, 28)),
        (Policy(window_mode="working"), date(2026, 11, 27), NOV27_WORKING, date(2026, 12, 2)),
        (
            Policy(window_mode="working"),
            date(2026, 9, 30),
            (date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 12)),
            date(2026, 10, 10),
        ),
        # Out of order, repeated or not after the day: still the third working day after.
        (
            Policy(window_mode="working"),
            date(2026, 11, 27),
            (date(2026, 12, 2), date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 1))
            + (date(2026, 11, 30),),
            date(2026, 12, 2),
        ),
        (Policy(window_mode="working"), date(2026, 11, 27), NOV27_WORKING[:2], None),
        (Policy(window_days=5), date.max, (), date.max),
    ],
)
def test_last_day_to_apply(policy, day, working, expected):
    assert last_day_to_apply(policy, day, working) == expected


@pytest.mark.parametrize(
    ("policy", "day", "working", "expected"),
    [
        # No cut-off: the window's last day.
        (Policy(), date(2026, 11, 27), (), date(2026, 11, 30)),
        # The cut-off (5 December for the period ending 30 November) comes first.
        (Policy(window_days=10, cutoff_day=5), date(2026, 11, 30), (), date(2026, 12, 5)),
        # The window ends first.
        (Policy(window_days=3, cutoff_day=5), date(2026, 11, 27), (), date(2026, 11, 30)),
        # Unknown window end: unknown, whatever the cut-off.
        (Policy(window_mode="working", cutoff_day=5), date(2026, 11, 27), (), None),
    ],
)
def test_apply_deadline_is_the_window_brought_forward_to_the_cutoff(policy, day, working, expected):
    assert p.apply_deadline(policy, day, working) == expected


@pytest.mark.parametrize(
    ("reason", "length"),
    [("忘记打卡了", 5), ("  忘记打卡 ", 4), ("a b c", 5), ("", 0), ("e\u0301te\u0301", 3)],
)
def test_reason_length(reason, length):
    assert reason_length(reason) == length


@pytest.mark.parametrize(
    "kwargs",
    [
        {"monthly_limit": -1},
        {"window_days": -1},
        {"window_mode": "weekly"},
        {"cutoff_day": 0},
        {"cutoff_day": 32},
        {"period_start_day": 29},
        {"period_start_day": 0},
        {"min_reason_length": -5},
        {"correctable": frozenset({"absent"})},
    ],
)
def test_invalid_policy_is_refused_when_built(kwargs):
    with pytest.raises(ValueError):
        Policy(**kwargs)


@pytest.mark.parametrize(
    "changes",
    [
        {"now": datetime(2026, 11, 28, 10)},
        {"requested_time": datetime(2026, 11, 27, 9)},
        {"slot_window_end": datetime(2026, 11, 27, 13, 30)},
        {"used_in_period": -1},
        {"day": datetime(2026, 11, 27, 9, tzinfo=SH)},
    ],
)
def test_invalid_facts_are_refused_when_built(changes):
    with pytest.raises(ValueError):
        dataclasses.replace(BASE, **changes)


def test_refusal_params_are_read_only():
    refusal = Refusal(p.REASON_TOO_SHORT, {"min": 5, "length": 2})
    with pytest.raises(TypeError):
        refusal.params["min"] = 1  # type: ignore[index]
    assert refusal == Refusal(p.REASON_TOO_SHORT, {"min": 5, "length": 2})


# --------------------------------------------------------------------------- messages


def test_every_code_has_a_message():
    assert set(REFUSAL_MESSAGES) == set(p.CODES)


@pytest.mark.parametrize(
    ("name", "policy", "changes", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_every_message_renders_all_its_placeholders(name, policy, changes, expected):
    for refusal in check_submission(policy, dataclasses.replace(BASE, **changes)):
        with translation.override("en"):
            text = refusal_message(refusal)
        assert text and "%(" not in text
        for key in ("day", "last_day", "limit", "min", "category"):
            if key in refusal.params and refusal.params[key] != "":
                assert str(refusal.params[key]) in text


@pytest.mark.parametrize(
    ("refusal", "kwargs", "expected"),
    [
        (
            Refusal(p.WINDOW_EXPIRED, {"day": "2026-11-27", "last_day": "2026-11-30"}),
            {},
            "The deadline to correct 2026-11-27 has passed: the last day to apply was 2026-11-30.",
        ),
        (
            Refusal(p.MONTHLY_LIMIT_REACHED, {"limit": 3, "used": 3, **NOV}),
            {},
            "The limit of 3 corrections for the period 2026-11-01 – 2026-11-30 has been reached "
            "(3 pending or approved).",
        ),
        (
            Refusal(p.SLOT_ALREADY_PUNCHED, {"day": "2026-11-27", "slot": "out2"}),
            {"segments": 2},
            "2026-11-27 Check-out 2 already has a valid punch.",
        ),
        (
            Refusal(p.ATTACHMENT_REQUIRED, {"category": "device_fault"}),
            {"category_labels": {"device_fault": "Device fault"}},
            "The reason category “Device fault” requires at least one attachment.",
        ),
        (
            Refusal("brand_new_rule", {}),
            {},
            "This request cannot be submitted (brand_new_rule).",
        ),
        (
            Refusal(p.REASON_TOO_SHORT, {}),
            {},
            "The reason must be at least  characters long.",
        ),
    ],
)
def test_refusal_message_examples(refusal, kwargs, expected):
    with translation.override("en"):
        assert refusal_message(refusal, **kwargs) == expected
