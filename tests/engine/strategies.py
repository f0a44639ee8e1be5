"""Random engine inputs: shifts of 1–3 segments or flexible, zones with DST and odd
offsets, punches with microseconds, resends and other zones, exemptions, ``as_of``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from ztk.engine import DayPlan, Exemption, Flexible, PunchIn, Segment, Shift, split_overlaps

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
    """A plan; a third of the work days cut where their windows would overlap those of
    random shifts on the day before and after (``split_overlaps``)."""
    day, tz = draw(st.sampled_from(DAYS)), draw(st.sampled_from(ZONES))
    kind = draw(st.sampled_from(["work", "work", "work", "work", "rest", "holiday"]))
    shift = draw(shifts()) if kind == "work" else None
    hour = draw(st.integers(min_value=0, max_value=6))
    plan = DayPlan(day, tz, kind, shift, hour)
    if shift is None or draw(st.integers(min_value=0, max_value=2)):
        return plan
    one_day = timedelta(days=1)
    before = DayPlan(day - one_day, tz, "work", draw(shifts()), hour)
    after = DayPlan(day + one_day, tz, "work", draw(shifts()), hour)
    return split_overlaps([before, plan, after])[1]


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
