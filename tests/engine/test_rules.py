"""Rule-by-rule examples for the pure attendance engine (shared/design/rules.md).

Every expected value is written by hand from the rule, never computed by the engine.
Shanghai time; 2024-03-04 is a Monday.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ztk.engine import (
    NOTE_CODES,
    NOTE_TEXT_EN,
    DayPlan,
    Exemption,
    Flexible,
    Note,
    PunchIn,
    Segment,
    Shift,
    affected_dates,
    attendance_date_for,
    evaluate_day,
    explain_en,
    partition_punches,
    slot_key_for,
    slot_windows,
    split_overlaps,
    windows,
)
from ztk.engine.evaluate import evaluate_general
from ztk.engine.rows import day_row, result_row

SH = ZoneInfo("Asia/Shanghai")
D = date(2024, 3, 4)

STANDARD = Shift("STD", "标准班 09:00-18:00", (Segment(time(9), time(18)),))
SPLIT = Shift(
    "SPLIT",
    "午休班 09:00-12:00 13:00-18:00",
    (Segment(time(9), time(12)), Segment(time(13), time(18))),
)
NIGHT = Shift("NIGHT", "夜班 22:00-06:00", (Segment(time(22), time(6)),))
FLEX = Shift(
    "FLEX",
    "弹性班 08:00-10:00 到岗, 工作 9 小时",
    (Segment(time(8), time(19)),),
    Flexible(time(8), time(10), 540),
)
ZERO = Shift("ZERO", "零点班 00:00-08:00", (Segment(time(0), time(8)),))


def at(hhmm: str, day: int = 4, month: int = 3) -> datetime:
    """Shanghai wall-clock time on 2024-03-<day>; 'HH:MM' or 'HH:MM:SS'."""
    return datetime.combine(date(2024, month, day), time.fromisoformat(hhmm), tzinfo=SH)


def work(shift: Shift, day: date = D, boundary: int = 0) -> DayPlan:
    return DayPlan(day, SH, "work", shift, boundary)


def off(kind: str, day: date = D, boundary: int = 0) -> DayPlan:
    return DayPlan(day, SH, kind, None, boundary)  # type: ignore[arg-type]


def punches(*times: str | tuple[str, int], source: str = "device") -> list[PunchIn]:
    """Device punches with ids 1, 2, ... in argument order; (hh:mm, day) for another day."""
    result = []
    for number, spec in enumerate(times, start=1):
        hhmm, day = spec if isinstance(spec, tuple) else (spec, 4)
        result.append(PunchIn(number, at(hhmm, day), source))  # type: ignore[arg-type]
    return result


def slot(result, key):
    return next(s for s in result.slots if s.key == key)


def statuses(result) -> dict[str, str]:
    return {s.key: s.status for s in result.slots}


def codes(result) -> list[tuple[str, str | None]]:
    return [(n.code, n.slot) for n in result.notes]


def both_paths(plan: DayPlan, items: list[PunchIn]):
    """The result of ``evaluate_day`` (a fast path for a fixed shift), after checking that
    the general path and the stored-row builder give the same."""
    result = evaluate_day(plan, items)
    assert evaluate_general(plan, items) == result
    now = datetime(2024, 4, 1, tzinfo=SH)
    assert day_row(1, plan, items, as_of=None, finalised=True, computed_at=now) == result_row(
        1, result, finalised=True, computed_at=now
    )
    return result


# --------------------------------------------------------------------------- windows


def test_windows_standard_shift():
    assert windows(work(STANDARD)) == [
        ("in1", at("07:00"), at("13:30")),
        ("out1", at("13:30"), at("22:00")),
    ]


def test_windows_split_shift_gap_split_at_its_midpoint():
    assert windows(work(SPLIT)) == [
        ("in1", at("07:00"), at("10:30")),
        ("out1", at("10:30"), at("12:30")),
        ("in2", at("12:30"), at("15:30")),
        ("out2", at("15:30"), at("22:00")),
    ]
    # Clipped at the gap midpoint: exclusive; the last check-out window: inclusive.
    assert [w.end_inclusive for w in slot_windows(work(SPLIT))] == [False, False, False, True]


def test_on_time_until_is_the_last_whole_minute_of_the_grace():
    """A reminder's "punched on time" bound (issue 14 item 7) is the slot judgement's: a
    check-in with grace_in 5 is on time until 09:05:59 (09:06 is 6 minutes late); a
    check-out anywhere in its window, whose last instant 22:00 is included."""
    graced = Shift("G", "宽限 5 分钟", (Segment(time(9), time(18), grace_in=5),))
    check_in, check_out = slot_windows(work(graced))
    assert check_in.grace == 5
    assert check_in.on_time_until() == at("09:06")
    assert check_out.on_time_until() == at("22:00") + timedelta(microseconds=1)
    assert check_out.end_exclusive() == check_out.on_time_until()
    assert slot_windows(work(STANDARD))[0].on_time_until() == at("09:01")
    # never past the window: a check-in window cut short at the gap's midpoint
    late_grace = Shift(
        "L",
        "grace beyond the gap",
        (
            Segment(time(9), time(9, 20), grace_in=60, late_as_missing=60),
            Segment(time(10), time(18)),
        ),
    )
    assert slot_windows(work(late_grace))[0].on_time_until() == at("09:10")


def test_windows_short_margins_leave_the_gap_uncovered():
    shift = Shift(
        "S",
        "short margins",
        (Segment(time(9), time(12), out_latest=10), Segment(time(13), time(18), in_earliest=20)),
    )
    assert windows(work(shift)) == [
        ("in1", at("07:00"), at("10:30")),
        ("out1", at("10:30"), at("12:10")),
        ("in2", at("12:40"), at("15:30")),
        ("out2", at("15:30"), at("22:00")),
    ]
    assert [w.end_inclusive for w in slot_windows(work(shift))] == [False, True, False, True]
    assert slot_key_for(work(shift), at("12:20")) is None


def test_windows_night_shift_ends_next_day():
    assert windows(work(NIGHT)) == [
        ("in1", at("20:00"), at("02:00", 5)),
        ("out1", at("02:00", 5), at("10:00", 5)),
    ]


def test_windows_flexible_shift_day_window_split_at_midpoint():
    assert windows(work(FLEX)) == [
        ("in1", at("06:00"), at("13:30")),
        ("out1", at("13:30"), at("23:00")),
    ]


def test_no_windows_on_rest_and_holiday():
    assert windows(off("rest")) == []
    assert windows(off("holiday")) == []


@pytest.mark.parametrize(
    ("shift", "moment", "key"),
    [
        (STANDARD, "06:59:59", None),
        (STANDARD, "07:00", "in1"),
        (STANDARD, "13:29:59", "in1"),
        (STANDARD, "13:30", "out1"),
        (STANDARD, "22:00", "out1"),
        (STANDARD, "22:00:01", None),
        (SPLIT, "10:29", "in1"),
        (SPLIT, "10:30", "out1"),
        (SPLIT, "12:29:59", "out1"),
        (SPLIT, "12:30", "in2"),
        (SPLIT, "15:29", "in2"),
        (SPLIT, "15:30", "out2"),
        (NIGHT, "19:59", None),
        (NIGHT, "20:00", "in1"),
    ],
)
def test_slot_key_for_window_bounds(shift, moment, key):
    assert slot_key_for(work(shift), at(moment)) == key


# --------------------------------------------------------------------------- matching


def test_check_in_takes_earliest_and_check_out_latest():
    result = evaluate_day(work(STANDARD), punches("08:50", "08:55", "18:05", "18:30"))
    assert slot(result, "in1").punch_id == 1
    assert slot(result, "out1").punch_id == 4
    assert result.extra_punch_ids == (2, 3)
    assert result.status == "normal"


def test_one_punch_fills_at_most_one_slot():
    result = evaluate_day(work(STANDARD), punches("08:55"))
    assert statuses(result) == {"in1": "normal", "out1": "missing"}
    assert (result.missing_in_count, result.missing_out_count) == (0, 1)
    assert result.status == "abnormal"


def test_lone_afternoon_punch_is_a_check_out():
    result = evaluate_day(work(STANDARD), punches("18:05"))
    assert statuses(result) == {"in1": "missing", "out1": "normal"}


def test_punch_outside_every_window_is_kept_and_reported():
    result = evaluate_day(work(STANDARD), punches("06:30", "08:58", "18:02", "23:00"))
    assert result.status == "normal"
    assert result.outside_punch_ids == (1, 4)
    assert Note(
        "outside_schedule", None, {"punch_id": 1, "date": "2024-03-04", "time": "06:30"}
    ) in (result.notes)


def test_voided_punch_is_ignored_but_explained():
    plan = work(STANDARD)
    items = [
        PunchIn(1, at("08:55"), "device", voided=True),
        PunchIn(2, at("09:10"), "device"),
        PunchIn(3, at("18:00"), "device"),
    ]
    result = evaluate_day(plan, items)
    assert slot(result, "in1").status == "late"
    assert slot(result, "in1").minutes == 10
    assert ("voided_ignored", None) in codes(result)


def test_result_does_not_depend_on_punch_order_or_resends():
    plan = work(SPLIT)
    items = punches("08:55", "12:01", "12:58", "18:00")
    resend = PunchIn(99, at("12:01"), "device")
    expected = evaluate_day(plan, items)
    assert evaluate_day(plan, list(reversed(items))) == expected
    assert evaluate_day(plan, [*items, items[0]]) == expected
    assert evaluate_day(plan, [resend, *items]) == expected  # "99" sorts after "2"


def test_punches_in_other_zones_are_the_same_instants():
    plan = work(STANDARD)
    utc_punches = [PunchIn(1, datetime.fromisoformat("2024-03-04T01:12:00+00:00"), "device")]
    local_punches = [PunchIn(1, at("09:12"), "device")]
    assert evaluate_day(plan, utc_punches) == evaluate_day(plan, local_punches)


# --------------------------------------------------------------------------- slot status


@pytest.mark.parametrize(
    ("punch", "options", "status", "minutes", "serious", "half"),
    [
        ("08:30", {}, "normal", 0, False, False),
        ("09:00", {}, "normal", 0, False, False),
        ("09:00:59", {}, "normal", 0, False, False),  # sub-minute differences are forgiven
        ("09:01", {}, "late", 1, False, False),
        ("09:30", {}, "late", 30, False, False),
        ("09:31", {}, "late", 31, True, False),
        ("11:00", {}, "late", 120, True, False),
        ("11:01", {}, "missing", 121, False, False),
        ("09:05", {"grace_in": 5}, "normal", 0, False, False),
        # Grace and thresholds are judged on whole minutes (rules.md):
        ("09:05:59", {"grace_in": 5}, "normal", 0, False, False),
        ("09:30:59", {}, "late", 30, False, False),
        ("11:00:59", {}, "late", 120, True, False),
        ("10:00:59", {"late_as_half_day_absent": 60}, "late", 60, True, False),
        ("09:06", {"grace_in": 5}, "late", 6, False, False),
        ("09:45", {"serious_late": 60}, "late", 45, False, False),
        ("13:00", {"late_as_missing": None}, "late", 240, True, False),
        ("10:00", {"late_as_half_day_absent": 60}, "late", 60, True, False),
        ("10:01", {"late_as_half_day_absent": 60}, "late", 61, True, True),
    ],
)
def test_check_in_status(punch, options, status, minutes, serious, half):
    shift = Shift("S", "09:00-18:00", (Segment(time(9), time(18), **options),))
    result = both_paths(work(shift), [*punches(punch), PunchIn(2, at("18:00"), "device")])
    in1 = slot(result, "in1")
    assert (in1.status, in1.minutes, in1.serious, in1.half_day_absent) == (
        status,
        minutes,
        serious,
        half,
    )


@pytest.mark.parametrize(
    ("punch", "options", "status", "minutes"),
    [
        ("18:00", {}, "normal", 0),
        ("19:30", {}, "normal", 0),
        ("17:59:30", {}, "normal", 0),
        ("17:59", {}, "early", 1),
        ("16:00", {}, "early", 120),
        ("15:59", {}, "missing", 121),
        ("17:50", {"grace_out": 10}, "normal", 0),
        ("17:49", {"grace_out": 10}, "early", 11),
        # Whole minutes, rounded down (rules.md):
        ("17:49:01", {"grace_out": 10}, "normal", 0),
        ("15:59:01", {}, "early", 120),
        ("14:00", {"early_as_missing": None}, "early", 240),
    ],
)
def test_check_out_status(punch, options, status, minutes):
    shift = Shift("S", "09:00-18:00", (Segment(time(9), time(18), **options),))
    items = [PunchIn(1, at("09:00"), "device"), PunchIn(2, at(punch), "device")]
    result = both_paths(work(shift), items)
    out1 = slot(result, "out1")
    assert (out1.status, out1.minutes) == (status, minutes)


def test_late_counted_missing_is_explained():
    result = evaluate_day(work(STANDARD), punches("11:30", "18:00"))
    assert slot(result, "in1").punch_id == 1
    assert result.missing_in_count == 1
    assert result.late_count == 0
    assert explain_en(result) == ["in1: late by 150 min, counted as missing (more than 120 min)."]


def test_early_counted_missing_is_explained():
    result = evaluate_day(work(STANDARD), punches("09:00", "15:00"))
    assert result.missing_out_count == 1
    assert explain_en(result) == [
        "out1: left 180 min early, counted as missing (more than 120 min)."
    ]


def test_late_and_early_counts_and_minutes():
    result = evaluate_day(work(STANDARD), punches("09:40", "17:15"))
    assert result.status == "abnormal"
    assert (result.late_count, result.late_minutes, result.serious_late_count) == (1, 40, 1)
    assert (result.early_count, result.early_minutes) == (1, 45)
    assert explain_en(result) == [
        "in1: late by 40 min.",
        "in1: seriously late (more than 30 min).",
        "out1: left 45 min early.",
    ]


def test_late_beyond_half_day_threshold_adds_half_a_day_of_absence():
    shift = Shift("S", "09:00-18:00", (Segment(time(9), time(18), late_as_half_day_absent=60),))
    result = evaluate_day(work(shift), punches("10:01", "18:00"))
    assert result.status == "abnormal"
    assert result.absent_days == 0.5
    assert ("half_day_absent", "in1") in codes(result)


def test_half_day_absences_add_up_to_at_most_one_day():
    rule = {"late_as_half_day_absent": 15}
    shift = Shift(
        "CATER",
        "餐饮三头班",
        (
            Segment(time(7), time(10), **rule),
            Segment(time(11), time(14), **rule),
            Segment(time(17), time(21), **rule),
        ),
    )
    result = evaluate_day(
        work(shift), punches("07:20", "10:00", "11:20", "14:00", "17:20", "21:00")
    )
    assert [s.half_day_absent for s in result.slots if s.kind == "in"] == [True, True, True]
    assert result.absent_days == 1.0
    assert result.status == "abnormal"


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize(
    ("source", "moment", "status", "corrected", "manual"),
    [
        ("correction", "09:00", "corrected", 1, 0),
        ("correction", "09:40", "corrected", 1, 0),  # an approved fix is not judged late
        ("paper", "09:00", "corrected", 1, 0),
        ("manual", "09:00", "manual", 0, 1),
        ("import", "09:20", "late", 0, 0),  # imported terminal data is judged by its time
        ("web", "09:20", "late", 0, 0),
        ("mobile", "08:59", "normal", 0, 0),
    ],
)
def test_slot_filled_by_correction_or_manual_punch(source, moment, status, corrected, manual):
    items = [PunchIn(1, at(moment), source), PunchIn(2, at("18:00"), "device")]
    result = evaluate_day(work(STANDARD), items)
    assert slot(result, "in1").status == status
    assert (result.corrected_count, result.manual_count) == (corrected, manual)
    assert result.status == ("abnormal" if status == "late" else "normal")


def test_correction_note_names_the_time():
    items = [PunchIn(1, at("09:00"), "device"), PunchIn(2, at("18:00"), "correction")]
    result = evaluate_day(work(STANDARD), items)
    assert result.notes == (Note("corrected", "out1", {"time": "18:00"}),)
    assert explain_en(result) == ["out1: filled by an approved correction punch at 18:00."]


# --------------------------------------------------------------------------- exemptions


def test_full_day_leave_makes_the_day_leave():
    leave = Exemption(at("09:00"), at("18:00"), "leave")
    result = evaluate_day(work(STANDARD), [], [leave])
    assert statuses(result) == {"in1": "exempt", "out1": "exempt"}
    assert result.status == "leave"
    assert result.exempt_minutes_by_kind == {"leave": 540}
    assert (result.worked_minutes, result.absent_days, result.missing_in_count) == (0, 0.0, 0)
    assert explain_en(result) == [
        "Every slot is covered by approved leave, outing or business trip.",
        "in1: covered by approved leave.",
        "out1: covered by approved leave.",
    ]


def test_multi_day_business_trip():
    trip = Exemption(at("00:00", 3), at("00:00", 6), "trip")
    result = evaluate_day(work(STANDARD), [], [trip])
    assert result.status == "leave"
    assert result.exempt_minutes_by_kind == {"trip": 540}


def test_morning_leave_on_split_shift():
    leave = Exemption(at("09:00"), at("12:00"), "leave")
    result = evaluate_day(work(SPLIT), punches("12:55", "18:02"), [leave])
    assert statuses(result) == {
        "in1": "exempt",
        "out1": "exempt",
        "in2": "normal",
        "out2": "normal",
    }
    assert result.status == "normal"
    assert result.worked_minutes == 300
    assert result.exempt_minutes_by_kind == {"leave": 180}


def test_afternoon_outing_covers_the_check_out():
    outing = Exemption(at("15:00"), at("18:00"), "outing")
    result = evaluate_day(work(STANDARD), punches("08:58"), [outing])
    assert statuses(result) == {"in1": "normal", "out1": "exempt"}
    assert result.status == "normal"
    assert result.worked_minutes == 360
    assert result.exempt_minutes_by_kind == {"outing": 180}


def test_midday_outing_is_not_worked_time():
    outing = Exemption(at("10:00"), at("12:00"), "outing")
    result = evaluate_day(work(STANDARD), punches("08:58", "18:02"), [outing])
    assert result.status == "normal"
    assert result.worked_minutes == 420
    assert result.exempt_minutes_by_kind == {"outing": 120}


def test_exemption_ending_at_the_start_does_not_cover_the_check_in():
    leave = Exemption(at("08:00"), at("09:00"), "leave")
    result = evaluate_day(work(STANDARD), punches("09:10", "18:00"), [leave])
    assert slot(result, "in1").status == "late"
    assert slot(result, "in1").minutes == 10


def test_exemption_starting_at_the_end_does_not_cover_the_check_out():
    leave = Exemption(at("18:00"), at("20:00"), "leave")
    result = evaluate_day(work(STANDARD), punches("09:00", "17:00"), [leave])
    assert slot(result, "out1").status == "early"
    assert slot(result, "out1").minutes == 60


def test_exempt_check_in_with_a_punch_counts_presence_from_the_punch():
    leave = Exemption(at("09:00"), at("11:00"), "leave")
    result = evaluate_day(work(STANDARD), punches("11:10", "18:00"), [leave])
    assert slot(result, "in1").status == "exempt"
    assert slot(result, "in1").punch_id == 1
    assert result.status == "normal"
    assert result.worked_minutes == 410
    assert result.exempt_minutes_by_kind == {"leave": 120}


def test_exempt_check_in_without_a_punch_counts_presence_from_the_leave_end():
    leave = Exemption(at("09:00"), at("13:30"), "leave")
    result = evaluate_day(work(STANDARD), punches("18:00"), [leave])
    assert statuses(result) == {"in1": "exempt", "out1": "normal"}
    assert result.worked_minutes == 270
    assert result.exempt_minutes_by_kind == {"leave": 270}


# --------------------------------------------------------------------------- day status


def test_normal_day():
    result = evaluate_day(work(STANDARD), punches("08:58", "18:02"))
    assert result.status == "normal"
    assert result.provisional is False
    assert result.worked_minutes == 540
    assert result.scheduled_minutes == 540
    assert result.shift_code == "STD"
    assert result.notes == ()
    assert explain_en(result) == []


def test_no_punch_at_all_is_absent():
    result = evaluate_day(work(STANDARD), [])
    assert result.status == "absent"
    assert result.absent_days == 1.0
    assert (result.missing_in_count, result.missing_out_count) == (1, 1)
    assert explain_en(result) == [
        "Absent (one day): no valid punch in any slot that needed one.",
        "in1: no punch (missing).",
        "out1: no punch (missing).",
    ]


def test_check_in_counted_missing_and_no_check_out_is_absent():
    result = evaluate_day(work(STANDARD), punches("11:30"))
    assert result.status == "absent"
    assert result.absent_days == 1.0


def test_half_day_leave_and_nothing_else_is_still_one_absent_day():
    # rules.md: absent when every non-exempt slot is missing (one day).
    leave = Exemption(at("09:00"), at("12:00"), "leave")
    result = evaluate_day(work(SPLIT), [], [leave])
    assert result.status == "absent"
    assert result.absent_days == 1.0
    assert (result.missing_in_count, result.missing_out_count) == (1, 1)


def test_one_missing_slot_makes_the_day_abnormal():
    result = evaluate_day(work(SPLIT), punches("08:55", "12:01", "18:00"))
    assert statuses(result) == {
        "in1": "normal",
        "out1": "normal",
        "in2": "missing",
        "out2": "normal",
    }
    assert result.status == "abnormal"
    assert result.absent_days == 0.0


def test_rest_day_keeps_punches_as_outside_schedule():
    result = evaluate_day(off("rest"), punches("10:00", "15:00"))
    assert result.status == "rest"
    assert result.slots == ()
    assert result.outside_punch_ids == (1, 2)
    assert explain_en(result) == [
        "Rest day: no shift scheduled.",
        "Punch 1 at 2024-03-04 10:00 is outside every punch window.",
        "Punch 2 at 2024-03-04 15:00 is outside every punch window.",
    ]


def test_holiday():
    result = evaluate_day(off("holiday"), [])
    assert (result.status, result.kind, result.absent_days, result.worked_minutes) == (
        "holiday",
        "holiday",
        0.0,
        0,
    )
    assert explain_en(result) == ["Public holiday: no shift scheduled."]


# --------------------------------------------------------------------------- provisional


def test_provisional_open_check_out_is_pending():
    result = evaluate_day(work(STANDARD), punches("08:55"), as_of=at("10:00"))
    assert result.provisional is True
    assert statuses(result) == {"in1": "normal", "out1": "pending"}
    assert (result.status, result.pending_count, result.missing_out_count) == ("normal", 1, 0)
    assert explain_en(result) == [
        "Provisional result as of 2024-03-04 10:00; the day is not final yet.",
        "out1: not yet punched (window open until 22:00).",
    ]


def test_provisional_before_any_window_closes_is_not_absent():
    result = evaluate_day(work(STANDARD), [], as_of=at("10:00"))
    assert statuses(result) == {"in1": "pending", "out1": "pending"}
    assert (result.status, result.absent_days) == ("normal", 0.0)


def test_provisional_closed_check_in_window_is_missing():
    result = evaluate_day(work(STANDARD), [], as_of=at("14:00"))
    assert statuses(result) == {"in1": "missing", "out1": "pending"}
    assert result.status == "abnormal"
    assert result.missing_in_count == 1


def test_provisional_at_the_window_end_counts_missing():
    result = evaluate_day(work(STANDARD), [], as_of=at("13:30"))
    assert slot(result, "in1").status == "missing"


def test_provisional_after_every_window_counts_missing_but_stays_provisional():
    result = evaluate_day(work(STANDARD), [], as_of=at("22:30"))
    assert result.provisional is True
    assert (result.status, result.absent_days) == ("absent", 1.0)


def test_provisional_night_shift_check_out_pending_after_midnight():
    result = evaluate_day(work(NIGHT), punches("21:55"), as_of=at("01:00", 5))
    assert statuses(result) == {"in1": "normal", "out1": "pending"}


# --------------------------------------------------------------------------- worked minutes


@pytest.mark.parametrize(
    ("shift", "times", "worked"),
    [
        (STANDARD, ("09:10", "17:40"), 510),
        (STANDARD, ("08:30", "18:30"), 540),
        (STANDARD, ("09:00:30", "17:59:45"), 539),
        (STANDARD, ("09:30", "17:00"), 450),
        # rules.md: a check-in counted as missing (too late) still bounds the time worked,
        # as does a check-out counted as missing (too early); the day is absent all the same.
        (STANDARD, ("11:30", "18:00"), 390),
        (STANDARD, ("09:00", "15:30"), 390),
        (STANDARD, ("11:30", "15:30"), 240),
        # Summed exactly and rounded down once: 179.5 + 299.5 minutes (not 179 + 299).
        (SPLIT, ("09:00:30", "12:00", "13:00:30", "18:00"), 479),
        (SPLIT, ("09:00:00.600000", "11:59:59.700000", "13:00", "17:59:59.700000"), 479),
        (SPLIT, ("08:55", "12:01", "12:58", "18:00"), 480),
        (SPLIT, ("09:10", "11:50", "13:05", "17:30"), 160 + 265),
        (SPLIT, ("08:55", "18:00"), 0),  # no segment has both slots
        (NIGHT, ("21:50", ("06:05", 5)), 480),
        (NIGHT, ("22:15", ("05:00", 5)), 405),
    ],
)
def test_worked_minutes(shift, times, worked):
    assert both_paths(work(shift), punches(*times)).worked_minutes == worked
    # The general path with an exemption that covers no slot and no worked time.
    leave = Exemption(at("20:00", 6), at("21:00", 6), "leave")
    assert evaluate_day(work(shift), punches(*times), [leave]).worked_minutes == worked


def test_a_slot_counted_missing_keeps_its_punch():
    """rules.md: 09:00-18:00 with 11:30 and 18:00 is 390 worked minutes; the check-in is
    still counted as missing for pay (the slot status), with its punch matched."""
    result = both_paths(work(STANDARD), punches("11:30", "18:00"))
    in1 = slot(result, "in1")
    assert (in1.status, in1.minutes, in1.punch_id, in1.punch_at) == ("missing", 150, 1, at("11:30"))
    assert (result.status, result.missing_in_count, result.late_count) == ("abnormal", 1, 0)
    assert result.worked_minutes == 390
    assert result.extra_punch_ids == () and result.outside_punch_ids == ()


def test_night_shift_across_a_dst_change_uses_real_minutes():
    berlin = ZoneInfo("Europe/Berlin")  # clocks go 02:00 -> 03:00 on 2024-03-31
    plan = DayPlan(date(2024, 3, 30), berlin, "work", NIGHT)
    items = [
        PunchIn(1, datetime(2024, 3, 30, 21, 55, tzinfo=berlin), "device"),
        PunchIn(2, datetime(2024, 3, 31, 6, 5, tzinfo=berlin), "device"),
    ]
    result = evaluate_day(plan, items)
    assert (result.scheduled_minutes, result.worked_minutes, result.status) == (420, 420, "normal")


# --------------------------------------------------------------------------- flexible


@pytest.mark.parametrize(
    ("times", "in_status", "in_minutes", "out_status", "out_minutes", "worked"),
    [
        (("09:30", "18:30"), "normal", 0, "normal", 0, 540),
        (("07:30", "17:00"), "normal", 0, "normal", 0, 540),  # counted from arrive_from
        (("10:00", "19:00"), "normal", 0, "normal", 0, 540),
        (("10:15", "19:15"), "late", 15, "normal", 0, 540),
        (("10:15", "19:00"), "late", 15, "early", 15, 525),
        (("09:00", "17:30"), "normal", 0, "early", 30, 510),
        (("08:00", "20:00"), "normal", 0, "normal", 0, 540),  # capped at required minutes
        # The check-in counted as missing still anchors the check-out (due 21:30, rules.md:
        # early when check-out < max(check-in, arrive_from) + required) and bounds the
        # time worked.
        (("12:30", "19:00"), "missing", 150, "missing", 150, 390),
        (("12:30", "21:00"), "missing", 150, "early", 30, 510),
    ],
)
def test_flexible_shift(times, in_status, in_minutes, out_status, out_minutes, worked):
    result = evaluate_day(work(FLEX), punches(*times))
    in1, out1 = slot(result, "in1"), slot(result, "out1")
    assert (in1.status, in1.minutes, out1.status, out1.minutes, result.worked_minutes) == (
        in_status,
        in_minutes,
        out_status,
        out_minutes,
        worked,
    )


def test_flexible_expected_check_out_follows_the_arrival():
    result = evaluate_day(work(FLEX), punches("09:12", "18:20"))
    assert slot(result, "in1").expected == at("10:00")
    assert slot(result, "out1").expected == at("18:12")


def test_flexible_explanations():
    result = evaluate_day(work(FLEX), punches("10:15", "19:00"))
    assert explain_en(result) == [
        "in1: arrived 15 min after the latest arrival time 10:00.",
        "out1: left 15 min before completing 540 min of work.",
    ]


def test_flexible_takes_earliest_and_latest_of_the_day_window():
    result = evaluate_day(work(FLEX), punches("09:00", "12:00", "18:00"))
    assert (slot(result, "in1").punch_id, slot(result, "out1").punch_id) == (1, 3)
    assert result.extra_punch_ids == (2,)


def test_flexible_two_morning_punches_check_out_is_far_too_early():
    result = evaluate_day(work(FLEX), punches("08:50", "08:55"))
    assert statuses(result) == {"in1": "normal", "out1": "missing"}
    assert slot(result, "out1").minutes == 535  # due 17:50
    assert ("early_counted_missing", "out1") in codes(result)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("09:00", {"in1": "normal", "out1": "missing"}),
        ("15:00", {"in1": "missing", "out1": "early"}),  # due 17:00 from arrive_from
    ],
)
def test_flexible_lone_punch_side_of_the_midpoint(moment, expected):
    assert statuses(evaluate_day(work(FLEX), punches(moment))) == expected


def test_flexible_morning_leave_counts_from_arrive_from():
    leave = Exemption(at("08:00"), at("12:00"), "leave")
    result = evaluate_day(work(FLEX), punches("12:05", "17:00"), [leave])
    assert statuses(result) == {"in1": "exempt", "out1": "normal"}
    assert result.worked_minutes == 295
    assert result.exempt_minutes_by_kind == {"leave": 240}


# --------------------------------------------------------------------------- partitioning


def test_partition_night_shifts():
    plans = [work(NIGHT, D), work(NIGHT, D + timedelta(days=1)), off("rest", D + timedelta(2))]
    items = punches(
        ("21:55", 4), ("02:00", 5), ("06:05", 5), ("21:50", 5), ("06:10", 6), ("12:00", 6)
    )
    parts = partition_punches(plans, items)
    assert {day: [p.id for p in ps] for day, ps in parts.items()} == {
        date(2024, 3, 4): [1, 2, 3],
        date(2024, 3, 5): [4, 5],
        date(2024, 3, 6): [6],
    }
    first = evaluate_day(plans[0], parts[date(2024, 3, 4)])
    assert (first.status, slot(first, "in1").punch_id, slot(first, "out1").punch_id) == (
        "normal",
        1,
        3,
    )


def test_partition_uncut_overlapping_windows_earlier_day_wins():
    plans = {D: work(NIGHT, D), D + timedelta(1): work(STANDARD, D + timedelta(1))}
    # Plans not cut by split_overlaps: 08:30 on the 5th is in the night shift's check-out
    # window (until 10:00) and in the day shift's check-in window (from 07:00).
    assert attendance_date_for(at("08:30", 5), plans) == D
    assert attendance_date_for(at("10:01", 5), plans) == D + timedelta(1)


# --------------------------------------------------------------------------- consecutive dates

D1 = D + timedelta(days=1)


def night_then_day() -> list[DayPlan]:
    """A night shift (22:00-06:00, check-out window until 10:00) followed by a day shift
    (09:00-18:00, check-in window from 07:00): cut at 07:30, the middle of 06:00-09:00."""
    return split_overlaps([work(NIGHT, D), work(STANDARD, D1)])


def test_overlapping_windows_of_consecutive_dates_are_cut_at_the_gap_midpoint():
    night, day = night_then_day()
    assert (night.next_split, day.previous_split) == (at("07:30", 5), at("07:30", 5))
    assert windows(night) == [
        ("in1", at("20:00"), at("02:00", 5)),
        ("out1", at("02:00", 5), at("07:30", 5)),
    ]
    assert windows(day) == [
        ("in1", at("07:30", 5), at("13:30", 5)),
        ("out1", at("13:30", 5), at("22:00", 5)),
    ]
    # As between segments: the midpoint belongs to the later check-in, exclusive before.
    assert [w.end_inclusive for w in slot_windows(night)] == [False, False]
    assert slot_key_for(night, at("07:29:59", 5)) == "out1"
    assert slot_key_for(night, at("07:30", 5)) is None
    assert slot_key_for(day, at("07:30", 5)) == "in1"
    by_date = {D: night, D1: day}
    assert attendance_date_for(at("07:29:59", 5), by_date) == D
    assert attendance_date_for(at("07:30", 5), by_date) == D1
    assert attendance_date_for(at("08:30", 5), by_date) == D1


def test_the_next_mornings_check_in_is_not_the_nights_check_out():
    night, day = night_then_day()
    items = punches(("21:55", 4), ("06:05", 5), ("08:50", 5), ("18:02", 5))
    parts = partition_punches([night, day], items)
    assert {d: [p.id for p in ps] for d, ps in parts.items()} == {D: [1, 2], D1: [3, 4]}
    first, second = both_paths(night, parts[D]), both_paths(day, parts[D1])
    assert (slot(first, "out1").punch_id, first.status, first.worked_minutes) == (2, "normal", 480)
    assert (slot(second, "in1").punch_id, second.status, second.worked_minutes) == (
        3,
        "normal",
        540,
    )
    # A provisional night whose check-out is not punched yet waits until the cut, not 10:00.
    pending = evaluate_day(night, parts[D][:1], as_of=at("07:00", 5))
    assert ("not_yet_punched", "out1") in codes(pending)
    assert pending.notes[-1].params == {"until": "07:30"}


def test_windows_that_do_not_overlap_are_not_cut():
    plans = [work(STANDARD, D), work(STANDARD, D1), work(NIGHT, D + timedelta(2))]
    assert split_overlaps(plans) == plans
    assert all(a is b for a, b in zip(split_overlaps(plans), plans, strict=True))
    # Dates that are not consecutive, and a rest day between, cut nothing either.
    assert split_overlaps([work(NIGHT, D), work(STANDARD, D + timedelta(2))])[0].next_split is None
    with_rest = split_overlaps([work(NIGHT, D), off("rest", D1), work(STANDARD, D + timedelta(2))])
    assert with_rest[0].next_split is None and with_rest[2].previous_split is None


def test_shifts_that_overlap_themselves_are_not_cut():
    # The night runs until 06:00 and the next date's shift starts at 00:00: no gap to cut
    # (a roster mistake); the earlier date keeps precedence, as without the cut.
    night, zero = split_overlaps([work(NIGHT, D), work(ZERO, D1)])
    assert (night.next_split, zero.previous_split) == (None, None)
    assert attendance_date_for(at("03:00", 5), {D: night, D1: zero}) == D


def test_the_cut_is_kept_between_calls_and_taken_off_without_neighbours():
    plans = [work(NIGHT, D), work(STANDARD, D1)]
    night, day = split_overlaps(plans)
    again = split_overlaps(plans)
    assert again[0] is night and again[1] is day  # the engine caches layouts by identity
    alone = split_overlaps([night])
    assert alone[0].next_split is None and alone[0].shift is night.shift


def test_a_split_must_lie_outside_the_shift():
    with pytest.raises(ValueError, match="previous_split"):
        DayPlan(D1, SH, "work", STANDARD, previous_split=at("09:01", 5))
    with pytest.raises(ValueError, match="next_split"):
        DayPlan(D, SH, "work", NIGHT, next_split=at("05:59", 5))
    with pytest.raises(ValueError, match="no windows"):
        DayPlan(D, SH, "rest", None, next_split=at("05:59", 5))


@pytest.mark.parametrize(
    ("boundary", "moment", "expected_day"),
    [
        (4, ("03:00", 5), 4),
        (4, ("04:00", 5), 5),
        (4, ("05:00", 5), 5),
        (0, ("03:00", 5), 5),
        (0, ("00:00", 5), 5),
        (0, ("23:59", 4), 4),
    ],
)
def test_partition_day_boundary_hour_decides_punches_in_no_window(boundary, moment, expected_day):
    plans = {
        D: off("rest", D, boundary),
        D + timedelta(1): off("rest", D + timedelta(1), boundary),
    }
    assert attendance_date_for(at(*moment), plans) == date(2024, 3, expected_day)


def test_partition_shift_starting_at_midnight_takes_the_evening_before():
    plans = {D: off("rest", D), D + timedelta(1): work(ZERO, D + timedelta(1))}
    assert attendance_date_for(at("22:30", 4), plans) == D + timedelta(1)
    assert attendance_date_for(at("21:59", 4), plans) == D


def test_partition_punch_beyond_the_plans_goes_by_boundary_hour():
    parts = partition_punches([work(STANDARD)], punches(("12:00", 7)))
    assert {day: [p.id for p in ps] for day, ps in parts.items()} == {
        D: [],
        date(2024, 3, 7): [1],
    }


def test_partition_rejects_two_plans_for_one_date():
    with pytest.raises(ValueError, match="two plans"):
        partition_punches([work(STANDARD), off("rest")], [])


def test_affected_dates():
    assert affected_dates(at("02:00", 5), SH, 0) == {
        date(2024, 3, 4),
        date(2024, 3, 5),
        date(2024, 3, 6),
    }


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Shift("X", "none", ()), "1 to 3"),
        (
            lambda: Shift(
                "X", "four", tuple(Segment(time(h), time(h, 30)) for h in (8, 10, 12, 14))
            ),
            "1 to 3",
        ),
        (
            lambda: Shift(
                "X", "overlap", (Segment(time(9), time(18)), Segment(time(12), time(20)))
            ),
            "24 hours",
        ),
        (lambda: Shift("X", "late end", (Segment(time(22), time(21)),)), "day after"),
        (lambda: Shift("", "no code", (Segment(time(9), time(18)),)), "code"),
        (
            lambda: Shift(
                "X",
                "flex two",
                (Segment(time(9), time(12)), Segment(time(13), time(18))),
                Flexible(time(8), time(10), 480),
            ),
            "exactly one segment",
        ),
        (lambda: Flexible(time(8), time(10), 0), "required_minutes"),
        (lambda: Segment(time(9, 0, 30), time(18)), "whole minute"),
        (lambda: Segment(time(9), time(18), grace_in=-1), "grace_in"),
        (lambda: Segment(time(9), time(18), in_earliest=1441), "1440"),
        (lambda: Segment(time(9), time(18), grace_in=130), "late_as_missing"),
        (lambda: DayPlan(D, SH, "work", None), "needs a shift"),
        (lambda: DayPlan(D, SH, "rest", STANDARD), "no shift"),
        (lambda: DayPlan(D, SH, "work", STANDARD, 24), "day_boundary_hour"),
        (lambda: PunchIn(1, datetime(2024, 3, 4, 9), "device"), "timezone-aware"),
        (lambda: PunchIn(1, at("09:00"), "fax"), "source"),  # type: ignore[arg-type]
        (lambda: Exemption(at("10:00"), at("09:00"), "leave"), "after"),
        (lambda: Exemption(at("09:00"), at("10:00"), "sick"), "kind"),  # type: ignore[arg-type]
    ],
)
def test_invalid_inputs_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_twenty_four_hour_segment_is_allowed():
    shift = Shift("24H", "24 小时班", (Segment(time(8), time(8)),))
    assert windows(work(shift)) == [
        ("in1", at("06:00"), at("20:00")),
        ("out1", at("20:00"), at("12:00", 5)),
    ]


# --------------------------------------------------------------------------- explanations


def _scenarios():
    """One result per note code, so every code is shown to have a working template."""
    half = Shift("H", "half", (Segment(time(9), time(18), late_as_half_day_absent=30),))
    yield evaluate_day(off("rest"), punches("10:00"))
    yield evaluate_day(off("holiday"), [])
    yield evaluate_day(work(STANDARD), [], [Exemption(at("09:00"), at("18:00"), "trip")])
    yield evaluate_day(work(STANDARD), [PunchIn(9, at("09:00"), "device", voided=True)])
    yield evaluate_day(work(STANDARD), punches("08:55"), as_of=at("12:00"))
    yield evaluate_day(work(half), punches("09:45", "17:30"))
    yield evaluate_day(work(STANDARD), punches("11:45", "15:00", "23:30"))
    yield evaluate_day(work(FLEX), punches("10:15", "18:00"))
    yield evaluate_day(
        work(STANDARD),
        [PunchIn(1, at("09:00"), "correction"), PunchIn(2, at("18:00"), "manual")],
    )


def test_every_note_code_has_an_english_template():
    emitted = set()
    for result in _scenarios():
        sentences = explain_en(result)
        assert len(sentences) == len(result.notes)
        assert all("{" not in s for s in sentences)
        emitted |= {note.code for note in result.notes}
    assert emitted == set(NOTE_CODES) == set(NOTE_TEXT_EN)


def test_late_explanation_in_english():
    result = evaluate_day(work(STANDARD), punches("09:12", "18:03"))
    assert result.notes == (Note("late", "in1", {"minutes": 12}),)
    assert explain_en(result) == ["in1: late by 12 min."]


def test_ids_may_be_strings_or_ints():
    items = [PunchIn("b", at("09:00"), "device"), PunchIn(7, at("09:00"), "web")]
    result = evaluate_day(work(STANDARD), items)
    assert slot(result, "in1").punch_id == 7  # tie on time: "7" < "b"
    assert result.extra_punch_ids == ("b",)
