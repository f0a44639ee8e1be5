"""build_plans and exemptions_for: the rules.md "Day plan" turned into engine inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AttendanceGroupFactory, EmployeeFactory
from ztk import engine
from ztk.scheduling import services
from ztk.scheduling.models import Exemption, RosterEntry, WorkCalendarDay
from ztk.scheduling.plans import build_plans, exemptions_for, plan_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2025-09-22 is a Monday; 2025-09-28 (Sunday) is a 调休 make-up working day and
# 2025-10-01..08 the National Day / Mid-autumn holiday in chinese-calendar's data.
MONDAY = date(2025, 9, 22)
MAKEUP_SUNDAY = date(2025, 9, 28)
NATIONAL_DAY = date(2025, 10, 1)

pytestmark = pytest.mark.django_db


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=SHANGHAI)


def punch(n: int, when: datetime) -> engine.PunchIn:
    return engine.PunchIn(id=n, at=when, source="device")


# --------------------------------------------------------------------------- shapes


def test_fixed_shift_on_a_pattern_workday(org, office_week):
    # given a Monday–Friday DAY pattern
    # when
    plans = build_plans([org.employee], MONDAY, MONDAY + timedelta(days=6))
    # then weekdays are work days with the 09:00–18:00 shift, the weekend is rest
    monday = plans[(org.employee.pk, MONDAY)]
    assert monday.kind == "work"
    assert monday.tz == SHANGHAI
    assert monday.shift.code == "DAY"
    assert monday.shift.segments[0].start == time(9, 0)
    assert monday.shift.segments[0].in_earliest == 120
    assert monday.shift.segments[0].late_as_missing == 120
    saturday = plans[(org.employee.pk, MONDAY + timedelta(days=5))]
    assert (saturday.kind, saturday.shift) == ("rest", None)
    # and the plan is one the engine evaluates
    result = engine.evaluate_day(
        monday, [punch(1, at(MONDAY, "08:55")), punch(2, at(MONDAY, "18:03"))]
    )
    assert result.status == "normal"


def test_split_shift_gives_four_slots(org, hr_user, shifts):
    services.pattern_set(actor=hr_user, group=org.group, shifts=[shifts.split] * 5 + [None, None])
    plan = build_plans([org.employee], MONDAY, MONDAY)[(org.employee.pk, MONDAY)]
    assert [(s.start, s.end) for s in plan.shift.segments] == [
        (time(9), time(12)),
        (time(13), time(18)),
    ]
    assert [w.key for w in engine.slot_windows(plan)] == ["in1", "out1", "in2", "out2"]
    punches = [
        punch(1, at(MONDAY, "08:50")),
        punch(2, at(MONDAY, "12:01")),
        punch(3, at(MONDAY, "12:58")),
        punch(4, at(MONDAY, "18:00")),
    ]
    result = engine.evaluate_day(plan, punches)
    assert result.status == "normal"
    assert result.worked_minutes == 8 * 60


def test_night_shift_ends_the_next_morning(org, hr_user, shifts):
    services.pattern_set(actor=hr_user, group=org.group, shifts=[shifts.night] * 5 + [None, None])
    plan = build_plans([org.employee], MONDAY, MONDAY)[(org.employee.pk, MONDAY)]
    windows = {w.key: w for w in engine.slot_windows(plan)}
    assert windows["out1"].expected == at(MONDAY + timedelta(days=1), "06:00")
    result = engine.evaluate_day(
        plan,
        [punch(1, at(MONDAY, "21:50")), punch(2, at(MONDAY + timedelta(days=1), "06:05"))],
    )
    assert result.status == "normal"
    assert result.worked_minutes == 8 * 60


def test_a_night_shift_before_a_day_shift_is_cut_at_the_gap_midpoint(org, hr_user, shifts):
    """Monday night (check-out window until Tuesday 10:00) and Tuesday's 09:00 day shift
    (check-in window from 07:00): both cut at 07:30, however the dates are asked for."""
    services.pattern_set(
        actor=hr_user, group=org.group, shifts=[shifts.night, shifts.day] + [None] * 5
    )
    tuesday = MONDAY + timedelta(days=1)
    for first, last in ((MONDAY, tuesday), (MONDAY, MONDAY), (tuesday, tuesday)):
        plans = build_plans([org.employee], first, last)
        assert set(plans) == {(org.employee.pk, d) for d in (first, last)}
    night = plan_for(org.employee, MONDAY)
    day = plan_for(org.employee, tuesday)
    assert [(w.key, w.start, w.end) for w in engine.slot_windows(night)][-1] == (
        "out1",
        at(tuesday, "02:00"),
        at(tuesday, "07:30"),
    )
    assert engine.slot_windows(day)[0].start == at(tuesday, "07:30")
    parts = engine.partition_punches(
        [night, day],
        [
            punch(1, at(MONDAY, "21:55")),
            punch(2, at(tuesday, "06:02")),
            punch(3, at(tuesday, "08:50")),
        ],
    )
    assert {d: [p.id for p in ps] for d, ps in parts.items()} == {MONDAY: [1, 2], tuesday: [3]}
    # A roster entry is cut the same way: a rostered rest day on Tuesday takes the cut away.
    services.roster_set(
        actor=hr_user, employees=[org.employee], start=tuesday, end=tuesday, shift=None
    )
    assert engine.slot_windows(plan_for(org.employee, MONDAY))[-1].end == at(tuesday, "10:00")
    services.roster_set(
        actor=hr_user, employees=[org.employee], start=tuesday, end=tuesday, shift=shifts.split
    )
    assert engine.slot_windows(plan_for(org.employee, MONDAY))[-1].end == at(tuesday, "07:30")


def test_flexible_shift_carries_its_arrival_rules(org, hr_user, shifts):
    services.pattern_set(
        actor=hr_user, group=org.group, shifts=[shifts.flexible] * 5 + [None, None]
    )
    plan = build_plans([org.employee], MONDAY, MONDAY)[(org.employee.pk, MONDAY)]
    assert plan.shift.flexible == engine.Flexible(time(8), time(10), 540)
    late = engine.evaluate_day(plan, [punch(1, at(MONDAY, "10:30")), punch(2, at(MONDAY, "19:30"))])
    assert late.status == "abnormal"
    assert late.late_minutes == 30


def test_plans_share_one_shift_and_plan_object_per_group_day(org, office_week):
    plans = build_plans([org.employee, org.colleague], MONDAY, MONDAY + timedelta(days=1))
    a, b = plans[(org.employee.pk, MONDAY)], plans[(org.colleague.pk, MONDAY)]
    assert a is b
    assert a.shift is plans[(org.employee.pk, MONDAY + timedelta(days=1))].shift


def test_group_time_zone_and_day_boundary_reach_the_plan(org, office_week):
    org.group.time_zone = "Asia/Urumqi"
    org.group.day_boundary_hour = 4
    org.group.save()
    plan = build_plans([org.employee], MONDAY, MONDAY)[(org.employee.pk, MONDAY)]
    assert plan.tz == ZoneInfo("Asia/Urumqi")
    assert plan.day_boundary_hour == 4


# --------------------------------------------------------------------------- precedence


def test_roster_overrides_the_pattern(org, hr_user, shifts, office_week):
    # given a night shift rostered on Tuesday and a rest day on Wednesday
    tuesday, wednesday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    services.roster_set(
        actor=hr_user, employees=[org.employee], start=tuesday, end=tuesday, shift=shifts.night
    )
    services.roster_set(
        actor=hr_user, employees=[org.employee], start=wednesday, end=wednesday, shift=None
    )
    # when
    plans = build_plans([org.employee, org.colleague], MONDAY, wednesday)
    # then the rostered employee follows the roster, the colleague the pattern
    assert plans[(org.employee.pk, tuesday)].shift.code == "NIGHT"
    assert plans[(org.employee.pk, wednesday)].kind == "rest"
    assert plans[(org.colleague.pk, tuesday)].shift.code == "DAY"
    assert plans[(org.colleague.pk, wednesday)].shift.code == "DAY"


def test_pattern_versions_govern_their_own_dates(org, hr_user, shifts, office_week):
    # given the group moves to the split shift from 2025-09-24 on
    services.pattern_set(
        actor=hr_user,
        group=org.group,
        shifts=[shifts.split] * 5 + [None, None],
        effective_from=date(2025, 9, 24),
    )
    plans = build_plans([org.employee], MONDAY, MONDAY + timedelta(days=3))
    codes = [plans[(org.employee.pk, MONDAY + timedelta(days=i))].shift.code for i in range(4)]
    assert codes == ["DAY", "DAY", "SPLIT", "SPLIT"]


def test_employee_without_group_rests_unless_rostered(org, hr_user, shifts):
    loner = EmployeeFactory(attendance_group=None)
    services.roster_set(
        actor=hr_user, employees=[loner], start=MONDAY, end=MONDAY, shift=shifts.day
    )
    plans = build_plans([loner], MONDAY, MONDAY + timedelta(days=1))
    assert plans[(loner.pk, MONDAY)].shift.code == "DAY"
    assert plans[(loner.pk, MONDAY)].tz == SHANGHAI
    assert plans[(loner.pk, MONDAY + timedelta(days=1))].kind == "rest"


def test_empty_inputs():
    assert build_plans([], MONDAY, MONDAY) == {}
    assert exemptions_for([], MONDAY, MONDAY) == {}


# --------------------------------------------------------------------------- calendar


def test_seeded_calendar_has_national_day_and_the_makeup_sunday():
    # given the 0002 data migration seeded chinese-calendar's data
    national = WorkCalendarDay.objects.get(date=NATIONAL_DAY)
    makeup = WorkCalendarDay.objects.get(date=MAKEUP_SUNDAY)
    assert (national.kind, national.name, national.source) == ("holiday", "国庆节", "seed")
    assert (makeup.kind, makeup.name) == ("workday", "国庆节")
    assert MAKEUP_SUNDAY.weekday() == 6


def test_national_day_is_a_holiday_without_shift(org, office_week):
    plans = build_plans([org.employee], NATIONAL_DAY, date(2025, 10, 9))
    kinds = [plans[(org.employee.pk, NATIONAL_DAY + timedelta(days=i))].kind for i in range(9)]
    assert kinds == ["holiday"] * 8 + ["work"]  # 10-01..10-08 off, Thursday 10-09 back
    assert plans[(org.employee.pk, NATIONAL_DAY)].shift is None
    result = engine.evaluate_day(plans[(org.employee.pk, NATIONAL_DAY)], [])
    assert result.status == "holiday"


def test_makeup_sunday_uses_the_default_workday_shift(org, hr_user, shifts):
    d = shifts.day
    services.pattern_set(
        actor=hr_user,
        group=org.group,
        shifts=[d, d, d, d, d, None, None],
        default_workday_shift=shifts.split,
    )
    plan = build_plans([org.employee], MAKEUP_SUNDAY, MAKEUP_SUNDAY)[
        (org.employee.pk, MAKEUP_SUNDAY)
    ]
    assert (plan.kind, plan.shift.code) == ("work", "SPLIT")


def test_makeup_sunday_falls_back_to_mondays_shift(org, hr_user, shifts):
    services.pattern_set(
        actor=hr_user,
        group=org.group,
        shifts=[shifts.split, shifts.day, shifts.day, shifts.day, shifts.day, None, None],
    )
    plans = build_plans([org.employee], MAKEUP_SUNDAY - timedelta(days=1), MAKEUP_SUNDAY)
    assert plans[(org.employee.pk, MAKEUP_SUNDAY)].shift.code == "SPLIT"
    assert plans[(org.employee.pk, MAKEUP_SUNDAY - timedelta(days=1))].kind == "rest"


def test_makeup_day_of_a_saturday_group_keeps_its_own_shift(org, hr_user, shifts):
    # 2025-10-11 (Saturday) is also a make-up day; a group that works Saturdays keeps SAT
    d = shifts.day
    services.pattern_set(
        actor=hr_user, group=org.group, shifts=[d, d, d, d, d, shifts.saturday, None]
    )
    saturday = date(2025, 10, 11)
    plan = build_plans([org.employee], saturday, saturday)[(org.employee.pk, saturday)]
    assert plan.shift.code == "SAT"


def test_group_that_ignores_the_calendar_works_through_holidays(org, hr_user, shifts):
    d = shifts.day
    services.pattern_set(actor=hr_user, group=org.group, shifts=[d] * 7, use_work_calendar=False)
    plans = build_plans([org.employee], MAKEUP_SUNDAY, NATIONAL_DAY)
    assert {plans[(org.employee.pk, day)].kind for day in (MAKEUP_SUNDAY, NATIONAL_DAY)} == {"work"}


def test_roster_beats_the_holiday_and_roster_rest_on_a_holiday_is_holiday(
    org, hr_user, shifts, office_week
):
    services.roster_set(
        actor=hr_user,
        employees=[org.employee],
        start=NATIONAL_DAY,
        end=NATIONAL_DAY,
        shift=shifts.day,
    )
    services.roster_set(
        actor=hr_user, employees=[org.colleague], start=NATIONAL_DAY, end=NATIONAL_DAY, shift=None
    )
    plans = build_plans([org.employee, org.colleague], NATIONAL_DAY, NATIONAL_DAY)
    assert plans[(org.employee.pk, NATIONAL_DAY)].kind == "work"
    assert plans[(org.colleague.pk, NATIONAL_DAY)].kind == "holiday"


def test_fallback_year_follows_the_pattern(org, office_week):
    # 2027 has no data: its 1 January (a Friday) is an ordinary working day
    new_year = date(2027, 1, 1)
    plans = build_plans([org.employee], new_year, new_year + timedelta(days=1))
    assert plans[(org.employee.pk, new_year)].kind == "work"
    assert plans[(org.employee.pk, new_year + timedelta(days=1))].kind == "rest"


# --------------------------------------------------------------------------- performance


def _crowd(count: int, groups) -> list:
    return [EmployeeFactory(attendance_group=groups[i % len(groups)]) for i in range(count)]


def test_query_count_does_not_grow_with_employees(
    org, hr_user, shifts, office_week, django_assert_num_queries
):
    # given two groups with patterns, some rosters, for 5 and for 50 employees
    other = AttendanceGroupFactory(code="NIGHTS", time_zone="Asia/Urumqi")
    services.pattern_set(actor=hr_user, group=other, shifts=[shifts.night] * 7)
    groups = [org.group, other]
    few, many = _crowd(5, groups), _crowd(50, groups)
    many_no_group = [*many, EmployeeFactory(attendance_group=None)]
    few_no_group = [*few, EmployeeFactory(attendance_group=None)]
    for employees in (few, many):
        services.roster_set(
            actor=hr_user,
            employees=employees[:3],
            start=MONDAY,
            end=MONDAY + timedelta(days=3),
            shift=shifts.split,
        )
    start, end = date(2025, 9, 15), date(2025, 10, 15)
    with CaptureQueriesContext(connection) as small:
        small_plans = build_plans(few_no_group, start, end)
    assert len(small_plans) == 6 * 31
    # then 50 employees take exactly as many queries as 5
    with django_assert_num_queries(len(small)):
        plans = build_plans(many_no_group, start, end)
    assert len(plans) == 51 * 31
    assert plans[(many[0].pk, MONDAY)].shift.code == "SPLIT"
    assert plans[(many[1].pk, date(2025, 9, 27))].shift.code == "NIGHT"
    assert plans[(many[1].pk, date(2025, 9, 27))].tz == ZoneInfo("Asia/Urumqi")
    assert plans[(many[1].pk, NATIONAL_DAY)].kind == "holiday"
    assert len(small) == 6  # groups, company, patterns, rosters, calendar, segments+shifts


def test_query_count_for_exemptions(org, hr_user, django_assert_num_queries):
    few, many = _crowd(3, [org.group]), _crowd(30, [org.group])
    for employee in many[:10]:
        services.exemption_create(
            actor=hr_user,
            employee=employee,
            start=at(MONDAY, "09:00"),
            end=at(MONDAY, "18:00"),
            kind="leave",
        )
    with CaptureQueriesContext(connection) as small:
        exemptions_for([e.pk for e in few], MONDAY, MONDAY)
    with django_assert_num_queries(len(small)):
        found = exemptions_for([e.pk for e in many], MONDAY, MONDAY)
    assert len(found) == 10


def test_large_id_lists_use_a_range_query(org, office_week, monkeypatch):
    from ztk.scheduling import plans as plans_module

    monkeypatch.setattr(plans_module, "_MAX_IN_IDS", 1)
    found = build_plans([org.employee, org.colleague], MONDAY, MONDAY)
    assert set(found) == {(org.employee.pk, MONDAY), (org.colleague.pk, MONDAY)}
    assert RosterEntry.objects.count() == 0


# --------------------------------------------------------------------------- exemptions


def test_exemptions_are_listed_under_the_dates_they_may_cover(org, hr_user):
    # given a leave from Tuesday 14:00 to Wednesday 12:00 and a voided one on Friday
    tuesday = MONDAY + timedelta(days=1)
    services.exemption_create(
        actor=hr_user,
        employee=org.employee,
        start=at(tuesday, "14:00"),
        end=at(tuesday + timedelta(days=1), "12:00"),
        kind="leave",
        reason="看病",
    )
    voided, _ = services.exemption_create(
        actor=hr_user,
        employee=org.employee,
        start=at(MONDAY + timedelta(days=4), "09:00"),
        end=at(MONDAY + timedelta(days=4), "18:00"),
        kind="trip",
    )
    services.exemption_void(actor=hr_user, exemption=voided, reason="取消出差")
    # when
    found = exemptions_for([org.employee.pk, org.colleague.pk], MONDAY, MONDAY + timedelta(days=6))
    # then Monday (a night shift's tail), Tuesday and Wednesday see it; the voided one is gone
    assert sorted(day for _, day in found) == [MONDAY, tuesday, tuesday + timedelta(days=1)]
    item = found[(org.employee.pk, tuesday)][0]
    assert item == engine.Exemption(
        at(tuesday, "14:00").astimezone(UTC), at(tuesday + timedelta(days=1), "12:00"), "leave"
    )
    assert Exemption.objects.count() == 2


def test_exemption_makes_covered_slots_exempt(org, hr_user, office_week):
    services.exemption_create(
        actor=hr_user,
        employee=org.employee,
        start=at(MONDAY, "09:00"),
        end=at(MONDAY, "18:00"),
        kind="leave",
    )
    plan = plan_for(org.employee, MONDAY)
    result = engine.evaluate_day(
        plan, [], exemptions_for([org.employee.pk], MONDAY, MONDAY)[(org.employee.pk, MONDAY)]
    )
    assert result.status == "leave"


def test_a_shift_without_segments_fails_loudly(org, hr_user):
    from ztk.scheduling.models import Shift, WeeklyPattern

    broken = Shift.objects.create(code="EMPTY", name="written around the services")
    WeeklyPattern.objects.create(group=org.group, monday_shift=broken)
    with pytest.raises(ValueError, match="EMPTY"):
        build_plans([org.employee], MONDAY, MONDAY)
