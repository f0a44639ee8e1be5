"""The engine's fast paths give exactly the results of its general (reference) path.

``evaluate_day`` sends a fixed shift without exemptions or voided punches, and every rest
or holiday day, through ``_evaluate_fixed`` / ``_evaluate_off``, which work in integer
microseconds on layouts cached per (shift, date, zone). ``_evaluate_general`` is the
previous implementation, kept for every other day; here both are run on random shifts,
zones (with DST and non-hour offsets), punches, exemptions and ``as_of`` and must agree
field for field. ``partition_punches`` is checked against the rule as first written
(``slot_key_for`` per date), and the stored JSON against ``json.dumps``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ztk.attendance import engine
from ztk.attendance.engine import (
    DayPlan,
    Exemption,
    Flexible,
    PunchIn,
    Segment,
    Shift,
    evaluate_day,
    partition_punches,
    slot_key_for,
)

ZONES = [
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("UTC"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Europe/London"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Pacific/Chatham"),
]
# Ordinary days and the DST changes of New York and London in 2024.
DAYS = [
    date(2024, 3, 4),
    date(2024, 3, 10),
    date(2024, 3, 31),
    date(2024, 10, 27),
    date(2024, 11, 3),
    date(2026, 10, 9),
]
SOURCES = ["device", "device", "device", "web", "mobile", "manual", "correction", "import"]
PROPERTY = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)

minutes_of_day = st.integers(min_value=0, max_value=23 * 60 + 59)
optional_minutes = st.one_of(st.none(), st.integers(min_value=0, max_value=300))


@st.composite
def segments(draw) -> Segment:
    start, end = draw(minutes_of_day), draw(minutes_of_day)
    grace_in = draw(st.integers(min_value=0, max_value=30))
    grace_out = draw(st.integers(min_value=0, max_value=30))
    late_as_missing = draw(optional_minutes)
    early_as_missing = draw(optional_minutes)
    if late_as_missing is not None:
        late_as_missing = max(late_as_missing, grace_in)
    if early_as_missing is not None:
        early_as_missing = max(early_as_missing, grace_out)
    return Segment(
        time(start // 60, start % 60),
        time(end // 60, end % 60),
        in_earliest=draw(st.integers(min_value=0, max_value=600)),
        out_latest=draw(st.integers(min_value=0, max_value=600)),
        grace_in=grace_in,
        grace_out=grace_out,
        late_as_missing=late_as_missing,
        early_as_missing=early_as_missing,
        serious_late=draw(st.integers(min_value=0, max_value=120)),
        late_as_half_day_absent=draw(optional_minutes),
    )


@st.composite
def shifts(draw) -> Shift:
    flexible = None
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        parts = [draw(segments())]
        arrive = draw(minutes_of_day)
        span = draw(st.integers(min_value=0, max_value=180))
        until = (arrive + span) % 1440
        flexible = Flexible(
            time(arrive // 60, arrive % 60),
            time(until // 60, until % 60),
            draw(st.integers(min_value=1, max_value=720)),
        )
    else:
        parts = draw(st.lists(segments(), min_size=1, max_size=3))
    try:
        return Shift("S", "random", tuple(parts), flexible)
    except ValueError:
        assume(False)
        raise


@st.composite
def plans(draw) -> DayPlan:
    day, tz = draw(st.sampled_from(DAYS)), draw(st.sampled_from(ZONES))
    kind = draw(st.sampled_from(["work", "work", "work", "work", "rest", "holiday"]))
    shift = draw(shifts()) if kind == "work" else None
    return DayPlan(day, tz, kind, shift, draw(st.integers(min_value=0, max_value=6)))


def moments(plan: DayPlan):
    """Instants from the evening before to the morning after next, some with microseconds."""
    midnight = datetime.combine(plan.day, time(), tzinfo=plan.tz).astimezone(UTC)
    seconds = st.integers(min_value=-8 * 3600, max_value=56 * 3600)
    fraction = st.sampled_from([0, 0, 0, 1, 500_000, 999_999])
    zone = st.sampled_from([UTC, plan.tz, ZoneInfo("Asia/Tokyo")])
    return st.builds(
        lambda s, us, z: (midnight + timedelta(seconds=s, microseconds=us)).astimezone(z),
        seconds,
        fraction,
        zone,
    )


@st.composite
def punch_lists(draw, plan: DayPlan, voided: bool):
    at = moments(plan)
    ids = st.one_of(st.integers(min_value=1, max_value=30), st.sampled_from(["a", "b", "10"]))
    items = draw(
        st.lists(
            st.tuples(
                ids, at, st.sampled_from(SOURCES), st.booleans() if voided else st.just(False)
            ),
            max_size=8,
        )
    )
    punches = [PunchIn(i, t, source, v) for i, t, source, v in items]
    # Resends: the very same record, or the same instant again.
    return punches + draw(
        st.lists(st.sampled_from(punches), max_size=2) if punches else st.just([])
    )


@st.composite
def exemption_lists(draw, plan: DayPlan):
    at = moments(plan)
    items = draw(
        st.lists(
            st.tuples(
                at,
                st.integers(min_value=1, max_value=12 * 60),
                st.sampled_from(["leave", "outing", "trip"]),
            ),
            max_size=2,
        )
    )
    return [Exemption(start, start + timedelta(minutes=length), k) for start, length, k in items]


@st.composite
def days(draw):
    plan = draw(plans())
    common = draw(st.booleans())  # half the examples are fast-path days
    punches = draw(punch_lists(plan, voided=not common))
    exemptions = [] if common else draw(exemption_lists(plan))
    as_of = draw(st.one_of(st.none(), moments(plan)))
    return plan, punches, exemptions, as_of


@PROPERTY
@given(days())
def test_fast_paths_equal_the_general_path(case):
    plan, punches, exemptions, as_of = case
    # Both orders (the second run also takes the cached layouts): ids here may repeat
    # with another instant or source, where the order decides which copy stands.
    for ordered in (punches, list(reversed(punches))):
        expected = engine._evaluate_general(plan, ordered, exemptions, as_of=as_of)
        assert evaluate_day(plan, ordered, exemptions, as_of=as_of) == expected


@PROPERTY
@given(days())
def test_fast_paths_raise_like_the_general_path(case):
    plan, punches, _exemptions, as_of = case
    for bad in (["not a punch"], [*punches, object()]):
        try:
            engine._evaluate_general(plan, bad, (), as_of=as_of)
        except (ValueError, AttributeError, TypeError) as error:
            general = type(error)
        else:  # pragma: no cover - the general path always refuses them
            raise AssertionError("the general path accepted a non-punch")
        try:
            evaluate_day(plan, bad, (), as_of=as_of)
        except (ValueError, AttributeError, TypeError) as error:
            assert type(error) is general or isinstance(error, ValueError)
        else:
            raise AssertionError("the fast path accepted a non-punch")


def _partition_reference(plans_: list[DayPlan], punches: list[PunchIn]):
    """partition_punches as first written: slot_key_for for each candidate date."""
    by_date = {p.day: p for p in plans_}
    reference = next(iter(by_date.values()), None)

    def date_for(at: datetime) -> date:
        moment = at.astimezone(UTC)
        local = moment.astimezone(reference.tz).date() if reference else at.date()
        for offset in range(-2, 3):
            candidate = local + timedelta(days=offset)
            plan = by_date.get(candidate)
            if plan is not None and slot_key_for(plan, moment) is not None:
                return candidate
        plan = by_date.get(local) or by_date.get(local - timedelta(days=1)) or reference
        if plan is None:
            return engine._boundary_date(moment, at.tzinfo or UTC, 0)
        return engine._boundary_date(moment, plan.tz, plan.day_boundary_hour)

    result: dict[date, list[PunchIn]] = {day: [] for day in sorted(by_date)}
    for punch in sorted(punches, key=lambda p: (p.at.astimezone(UTC), str(p.id))):
        result.setdefault(date_for(punch.at), []).append(punch)
    return dict(sorted(result.items()))


@PROPERTY
@given(st.data())
def test_partition_equals_the_rule_as_first_written(data):
    first = data.draw(plans())
    tz, hour = first.tz, first.day_boundary_hour
    window = []
    for offset in (-1, 0, 1):
        if data.draw(st.integers(min_value=0, max_value=4)) == 0:
            continue  # a gap in the plans
        kind = data.draw(st.sampled_from(["work", "work", "rest"]))
        shift = data.draw(shifts()) if kind == "work" else None
        window.append(DayPlan(first.day + timedelta(days=offset), tz, kind, shift, hour))
    punches = data.draw(punch_lists(first, voided=True))
    assert partition_punches(window, punches) == _partition_reference(window, punches)


@PROPERTY
@given(st.data())
def test_every_punch_of_a_date_lies_within_its_reach(data):
    """Recompute reads only the punches within ``punch_reach`` of the dates it computes:
    every punch partitioned to a date lies there, and partitioning only those gives the
    date the same punches."""
    first = data.draw(plans())
    tz, hour = first.tz, first.day_boundary_hour
    window = []
    for offset in (-1, 0, 1):
        if data.draw(st.integers(min_value=0, max_value=4)) == 0:
            continue  # a gap in the plans
        kind = data.draw(st.sampled_from(["work", "work", "rest"]))
        shift = data.draw(shifts()) if kind == "work" else None
        window.append(DayPlan(first.day + timedelta(days=offset), tz, kind, shift, hour))
    assume(window)
    punches = data.draw(punch_lists(first, voided=True))
    whole = partition_punches(window, punches)
    for plan in window:
        lo, hi = engine.punch_reach([plan])
        for punch in whole[plan.day]:
            assert lo <= punch.at <= hi
        within = [p for p in punches if lo <= p.at <= hi]
        assert partition_punches(window, within)[plan.day] == whole[plan.day]
    assert engine.punch_reach([]) is None


@PROPERTY
@given(st.data())
def test_partition_of_day_shifts_equals_the_rule_as_first_written(data):
    """Day shifts whose windows stay within their date (the quick path: local dates)."""
    first = data.draw(plans())
    tz = first.tz
    window = []
    for offset in (-1, 0, 1, 2):
        if data.draw(st.integers(min_value=0, max_value=5)) == 0:
            continue  # a gap in the plans
        if data.draw(st.booleans()):
            start = data.draw(st.integers(min_value=5 * 60, max_value=11 * 60))
            end = data.draw(st.integers(min_value=start + 30, max_value=20 * 60))
            segment = Segment(
                time(start // 60, start % 60),
                time(end // 60, end % 60),
                in_earliest=data.draw(st.integers(min_value=0, max_value=start)),
                out_latest=data.draw(st.integers(min_value=0, max_value=24 * 60 - end - 1)),
            )
            shift = Shift("D", "day", (segment,))
            window.append(DayPlan(first.day + timedelta(days=offset), tz, "work", shift, 0))
        else:
            window.append(DayPlan(first.day + timedelta(days=offset), tz, "rest", None, 0))
    punches = data.draw(punch_lists(first, voided=True))
    partitioned = partition_punches(window, punches)
    assert partitioned == _partition_reference(window, punches)
    by_date = {plan.day: plan for plan in window}
    for day, bucket in partitioned.items():
        for punch in bucket:
            assert engine.attendance_date_for(punch.at, by_date) == day


# --------------------------------------------------------------------------- stored JSON


@PROPERTY
@given(days())
def test_stored_json_is_what_json_dumps_writes(case):
    from ztk.attendance import services

    plan, punches, exemptions, as_of = case
    result = evaluate_day(plan, punches, exemptions, as_of=as_of)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    row = services.result_to_values(7, result, finalised=False, computed_at=now)
    values = dict(zip(services.ROW_COLUMNS, row, strict=True))
    assert values["slots"] == json.dumps(
        [services.slot_to_json(s) for s in result.slots], ensure_ascii=False
    )
    notes = [
        {"code": n.code, "slot": n.slot, "params": services._jsonable(n.params)}
        for n in result.notes
    ]
    assert values["notes"] == json.dumps(notes, ensure_ascii=False)
    assert values["exempt_minutes"] == json.dumps(dict(result.exempt_minutes_by_kind))
    assert values["outside_punch_ids"] == json.dumps(list(result.outside_punch_ids))
    assert str(values["absent_days"]) == str(result.absent_days)


@st.composite
def common_days(draw):
    """Fixed shifts with punches inside their windows: the days fixed_day_row serves."""
    plan = draw(plans())
    assume(plan.shift is not None and plan.shift.flexible is None)
    punches = []
    for n, window in enumerate(engine.slot_windows(plan)):
        span = int((window.end - window.start).total_seconds() * 1_000_000)
        for k in range(draw(st.integers(min_value=0, max_value=2))):
            offset = draw(st.integers(min_value=0, max_value=max(0, span - 1)))
            at = window.start + timedelta(microseconds=offset)
            source = draw(st.sampled_from(["device", "web", "mobile", "import"]))
            punches.append(PunchIn(f"{n}-{k}", at.astimezone(draw(st.sampled_from(ZONES))), source))
    as_of = draw(st.one_of(st.none(), moments(plan)))
    return plan, punches, [], as_of


@PROPERTY
@given(st.one_of(days(), common_days()), st.booleans())
def test_the_common_day_row_is_the_row_of_the_engine_result(case, final):
    """fixed_day_row builds the stored row of common days without the result objects;
    it must be byte for byte the row of evaluate_day's result, or decline (None)."""
    from ztk.attendance import services

    plan, punches, _exemptions, as_of = case
    as_of = None if final else as_of
    now = datetime(2026, 11, 1, tzinfo=UTC)
    row = services.fixed_day_row(7, plan, punches, as_of=as_of, finalised=final, computed_at=now)
    if row is None:
        return
    result = evaluate_day(plan, punches, (), as_of=as_of)
    assert row == services.result_to_values(7, result, finalised=final, computed_at=now)


def test_the_common_day_row_serves_an_ordinary_day():
    from ztk.attendance import services

    tz = ZoneInfo("Asia/Shanghai")
    plan = DayPlan(date(2026, 10, 9), tz, "work", Shift("D9", "day", (Segment(time(9), time(18)),)))
    punches = [
        PunchIn(1, datetime(2026, 10, 9, 9, 7, tzinfo=tz), "device"),
        PunchIn(2, datetime(2026, 10, 9, 17, 50, tzinfo=tz), "web"),
    ]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    for as_of in (None, datetime(2026, 10, 9, 12, tzinfo=tz)):
        row = services.fixed_day_row(
            1, plan, punches, as_of=as_of, finalised=False, computed_at=now
        )
        result = evaluate_day(plan, punches, (), as_of=as_of)
        assert result.status == "abnormal" and result.late_minutes == 7
        assert row == services.result_to_values(1, result, finalised=False, computed_at=now)
    voided = [*punches, PunchIn(3, datetime(2026, 10, 9, 12, tzinfo=tz), "device", True)]
    assert (
        services.fixed_day_row(1, plan, voided, as_of=None, finalised=False, computed_at=now)
        is None
    )


# --------------------------------------------------------------------------- stored rows


def _stored(employee_ids):
    from ztk.attendance.models import AttendanceDay

    fields = ["employee_id", "day", "status", "slots", "notes", "worked_minutes", "absent_days"]
    return sorted(AttendanceDay.objects.filter(employee_id__in=employee_ids).values_list(*fields))


def night_and_early_week(group, boundary: int) -> None:
    """Night shifts crossing midnight (Mon, Wed, Thu 22:00-06:00) and an early shift whose
    check-in window opens the evening before (Tue, Fri 00:30-09:00), with a day boundary
    hour: the week where a punch's local date and its attendance date differ."""
    from ztk.scheduling.models import Shift as ShiftRow
    from ztk.scheduling.models import ShiftSegment, WeeklyPattern

    night = ShiftRow.objects.create(code="N", name="night")
    ShiftSegment.objects.create(shift=night, position=1, start=time(22), end=time(6))
    early = ShiftRow.objects.create(code="D", name="day")
    ShiftSegment.objects.create(
        shift=early, position=1, start=time(0, 30), end=time(9), in_earliest=600
    )
    WeeklyPattern.objects.create(
        group=group,
        monday_shift=night,
        tuesday_shift=early,
        wednesday_shift=night,
        thursday_shift=night,
        friday_shift=early,
        use_work_calendar=False,
    )
    group.day_boundary_hour = boundary
    group.save()


@pytest.mark.django_db
@pytest.mark.parametrize("boundary", [0, 5])
def test_punch_by_punch_equals_a_full_recompute(org, boundary, monkeypatch):
    """Incremental recompute (which reads only the punches within reach of the dates the
    new punches belong to) stores what a full range recompute stores, on night shifts
    whose windows cross midnight and with a day boundary hour."""
    import random

    from ztk.attendance.services import recompute_range
    from ztk.punches.services import PunchInput, record_punches

    night_and_early_week(org.group, boundary)
    tz = ZoneInfo(org.group.time_zone)
    first = date(2026, 11, 2)  # a Monday
    now = datetime(2026, 11, 12, 12, tzinfo=tz)
    rng = random.Random(boundary)
    people = [org.employee, org.colleague]
    inputs = [
        PunchInput(
            at=datetime.combine(first, time(), tzinfo=tz)
            + timedelta(minutes=rng.randint(0, 8 * 24 * 60), seconds=rng.randint(0, 59)),
            source="device",
            employee_id=person.pk,
            device_sn="SN",
            pin=person.employee_no,
        )
        for person in people
        for _ in range(60)
    ]
    rng.shuffle(inputs)
    for i in range(0, len(inputs), 7):
        record_punches(inputs[i : i + 7], now=now)
    ids = [p.pk for p in people]
    incremental = _stored(ids)
    assert incremental == _reference(people, first - timedelta(days=3), 14, now, incremental)
    from ztk.attendance import services

    for scan_from in (10**9, 1):  # punches read per chunk, then in one pass over the range
        monkeypatch.setattr(services, "SCAN_MIN_EMPLOYEE_DAYS", scan_from)
        for start, end in ((first - timedelta(days=1), first + timedelta(days=9)), (3, 5)):
            if isinstance(start, int):
                start, end = first + timedelta(days=start), first + timedelta(days=end)
            recompute_range(start=start, end=end, now=now)
            expected = [row for row in incremental if start <= row[1] <= end]
            full = [row for row in _stored(ids) if any(row[:2] == r[:2] for r in expected)]
            assert expected == full


def _reference(people, first, days, now, rows):
    """The rows as the engine gives them from every punch of the employees (no reads
    narrowed to a window), for the (employee, day) pairs of ``rows``."""
    from ztk.attendance.services import ROW_COLUMNS, result_to_values
    from ztk.punches.models import Punch
    from ztk.scheduling.plans import build_plans

    plans = build_plans(people, first, first + timedelta(days=days))
    span = [first + timedelta(days=i) for i in range(days + 1)]
    out = []
    for person in people:
        punches = [
            PunchIn(pk, at, source, void_id is not None)
            for pk, at, source, void_id in Punch.objects.filter(employee=person).values_list(
                "pk", "at", "source", "void__id"
            )
        ]
        buckets = partition_punches([plans[(person.pk, d)] for d in span], punches)
        for employee_id, day, *_rest in rows:
            if employee_id != person.pk:
                continue
            result = evaluate_day(plans[(person.pk, day)], buckets.get(day, []), as_of=now)
            values = dict(
                zip(
                    ROW_COLUMNS,
                    result_to_values(person.pk, result, finalised=False, computed_at=now),
                    strict=True,
                )
            )
            out.append(
                (
                    person.pk,
                    day,
                    values["status"],
                    json.loads(values["slots"]),
                    json.loads(values["notes"]),
                    values["worked_minutes"],
                    values["absent_days"],
                )
            )
    return sorted(out)


@pytest.mark.django_db
def test_a_range_recompute_sees_punches_stored_after_its_one_pass_read(org, monkeypatch):
    """The one-pass read of a large range recompute happens before the chunks' transactions:
    punches and voids committed in between must still be in the results."""
    from ztk.attendance import services
    from ztk.punches.models import Punch, PunchVoid
    from ztk.punches.services import PunchInput, record_punches
    from ztk.scheduling.models import Shift as ShiftRow
    from ztk.scheduling.models import ShiftSegment, WeeklyPattern

    shift = ShiftRow.objects.create(code="D9", name="day")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group, **{f"{d}_shift": shift for d in ("monday", "tuesday", "wednesday")}
    )
    tz = ZoneInfo(org.group.time_zone)
    monday = date(2026, 11, 2)
    now = datetime(2026, 11, 12, 12, tzinfo=tz)
    people = [org.employee, org.colleague]

    def punch(person, day, hour, minute):
        at = datetime.combine(day, time(hour, minute), tzinfo=tz)
        return PunchInput(at=at, source="device", employee_id=person.pk, device_sn="SN",
                          pin=person.employee_no)  # fmt: skip

    record_punches(
        [punch(p, monday + timedelta(days=d), h, m) for p in people for d in range(3)
         for h, m in ((8, 50), (18, 5))],
        now=now,
        recompute=False,
    )  # fmt: skip
    first_punch = Punch.objects.filter(employee=org.employee).order_by("at").first()
    original = services._read_punches

    def read_then_others_write(*args, **kwargs):
        found = original(*args, **kwargs)
        if kwargs.get("scan"):  # another process commits after the one-pass read
            record_punches([punch(org.colleague, monday, 23, 30)], now=now, recompute=False)
            late = record_punches([punch(org.employee, monday, 13, 0)], now=now, recompute=False)
            PunchVoid.objects.create(punch=first_punch, reason="wrong", voided_by=org.hr.user)
            PunchVoid.objects.create(
                punch_id=late.punch_ids[0], reason="wrong", voided_by=org.hr.user
            )
        return found

    monkeypatch.setattr(services, "_read_punches", read_then_others_write)
    monkeypatch.setattr(services, "SCAN_MIN_EMPLOYEE_DAYS", 1)
    services.recompute_range(start=monday, end=monday + timedelta(days=2), now=now, chunk=1)
    stored = _stored([p.pk for p in people])
    assert len(stored) == 6
    assert stored == _reference(people, monday - timedelta(days=3), 8, now, stored)
    monday_row = next(r for r in stored if r[0] == org.employee.pk and r[1] == monday)
    assert monday_row[3][0]["status"] == "missing"  # its check-in was voided meanwhile
    colleague = next(r for r in stored if r[0] == org.colleague.pk and r[1] == monday)
    assert "outside_schedule" in [n["code"] for n in colleague[4]]  # punched meanwhile
