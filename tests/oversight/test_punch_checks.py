"""The suspicious-punch rules (ztk/oversight/punch_checks.py) on hand-written rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from ztk.engine.geo import distance_m, metres_outside
from ztk.oversight import punch_checks as pc
from ztk.oversight.checks import Limits
from ztk.oversight.punch_checks import PositionRow

NOV = (date(2026, 11, 1), date(2026, 11, 30))
OCT = (date(2026, 10, 1), date(2026, 10, 31))
LIMITS = Limits()
OFFICE = (31.2304, 121.4737, 200.0)  # Shanghai, 200 m
FENCES = {1: [OFFICE]}
# ~0.009° of latitude is 1 km
NEAR = (31.2310, 121.4740)  # inside the 200 m fence
FAR = (31.2574, 121.4737)  # 3 km north
BEIJING = (39.9042, 116.4074)  # ~1,070 km away


def at(day: int, hh: int = 9, mm: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=UTC)


def row(pk, employee, when, pos=None, *, group=1, inside=None, field=False, device="", **kw):
    lat, lon = pos if pos else (None, None)
    day = when.date()
    start = NOV[0] if NOV[0] <= day <= NOV[1] else None
    return PositionRow(
        id=pk,
        employee_id=employee,
        group_id=group,
        at=when,
        day=day,
        period_start=kw.pop("period_start", start),
        latitude=lat,
        longitude=lon,
        inside=inside,
        field_punch=field,
        device=device,
        device_label=device.upper(),
        **kw,
    )


def test_geometry():
    assert distance_m(*NEAR, *NEAR) == 0
    assert 2_950 < distance_m(*FAR, OFFICE[0], OFFICE[1]) < 3_050
    assert metres_outside(*NEAR, [OFFICE]) == 0
    assert 2_750 < (metres_outside(*FAR, [OFFICE]) or 0) < 2_850
    assert metres_outside(*FAR, []) is None


# --- outside every fence ------------------------------------------------------------------


def test_three_punches_outside_make_a_finding_two_do_not():
    rows = [row(i, 7, at(2 + i), FAR, inside=False, field=True) for i in range(3)]
    hits = pc.outside_fences(rows, periods=[NOV], fences=FENCES, limits=LIMITS)
    assert [(h.key, h.severity, h.params["count"], h.params["field_punches"]) for h in hits] == [
        ("outside_fence:e7:2026-11-01", "medium", 3, 3)
    ]
    assert [e.id for e in hits[0].evidence] == [0, 1, 2]
    assert hits[0].evidence[0].note.endswith("km outside")
    assert pc.outside_fences(rows[:2], periods=[NOV], fences=FENCES, limits=LIMITS) == []


def test_inside_punches_and_groups_without_fences_do_not_count():
    rows = [row(i, 7, at(2 + i), NEAR, inside=True) for i in range(5)]
    rows += [row(10 + i, 8, at(2 + i), FAR, group=2) for i in range(5)]  # group 2: no fence
    rows += [row(20 + i, 9, at(2 + i)) for i in range(5)]  # no position
    assert pc.outside_fences(rows, periods=[NOV], fences=FENCES, limits=LIMITS) == []


def test_a_punch_from_before_the_fence_is_judged_against_todays_fences():
    rows = [row(i, 7, at(2 + i), FAR, inside=None) for i in range(6)]
    (hit,) = pc.outside_fences(rows, periods=[NOV], fences=FENCES, limits=LIMITS)
    assert hit.severity == "high" and hit.params["count"] == 6  # twice the minimum
    assert 2_750 < hit.params["farthest_m"] < 2_850


# --- implausible jumps --------------------------------------------------------------------


def test_shanghai_then_beijing_within_an_hour_is_a_jump():
    rows = [row(1, 7, at(3, 9), NEAR), row(2, 7, at(3, 10), BEIJING), row(3, 7, at(4, 9), BEIJING)]
    (hit,) = pc.implausible_jumps(rows, periods=[NOV], limits=LIMITS)
    assert hit.key == "implausible_jump:e7:2026-11-01"
    assert hit.params["jumps"] == 1 and hit.params["fastest_kmh"] > 1_000
    assert [(e.id, e.tag) for e in hit.evidence] == [(1, "jump"), (2, "jump")]


def test_a_drive_across_town_is_not_a_jump_nor_gps_noise():
    rows = [row(1, 7, at(3, 9, 0), NEAR), row(2, 7, at(3, 9, 30), FAR)]  # 3 km in 30 min
    assert pc.implausible_jumps(rows, periods=[NOV], limits=LIMITS) == []
    # 3 km apart a minute later, but the accuracy of the two positions covers it
    noisy = [
        row(1, 7, at(3, 9, 0), NEAR, accuracy_m=1_500.0),
        row(2, 7, at(3, 9, 1), FAR, accuracy_m=1_500.0),
    ]
    assert pc.implausible_jumps(noisy, periods=[NOV], limits=LIMITS) == []


def test_the_earlier_punch_may_lie_before_the_period():
    rows = [row(1, 7, at(31, 23, 0, month=10), NEAR), row(2, 7, at(1, 0, 30), BEIJING)]
    (hit,) = pc.implausible_jumps(rows, periods=[NOV], limits=LIMITS)
    assert hit.start == NOV[0]
    assert pc.implausible_jumps(rows, periods=[NOV], limits=Limits(jump_speed_kmh=0)) == []


# --- new devices --------------------------------------------------------------------------


def test_a_new_device_after_enough_history_is_found_once_per_period():
    history = [
        row(i, 7, at(1 + i, month=10), NEAR, device="phone-a", period_start=None) for i in range(5)
    ]
    new = [row(100, 7, at(5), NEAR, device="phone-b"), row(101, 7, at(6), NEAR, device="phone-b")]
    old = [row(102, 7, at(7), NEAR, device="phone-a")]
    (hit,) = pc.new_devices(history + new + old, periods=[NOV], limits=LIMITS)
    assert hit.key == "new_device:e7:2026-11-01" and hit.severity == "low"
    assert hit.params["devices"] == ["PHONE-B"] and hit.params["punches"] == 2
    assert [(e.id, e.tag) for e in hit.evidence] == [(100, "new_device"), (101, "same_device")]


def test_a_newcomers_first_phone_is_not_news():
    rows = [row(i, 7, at(1 + i), NEAR, device="phone-a") for i in range(10)]
    few = [row(50 + i, 8, at(1 + i, month=10), device="p", period_start=None) for i in range(2)]
    few.append(row(60, 8, at(5), device="q"))  # only 2 punches before: not judged
    assert pc.new_devices(rows + few, periods=[NOV], limits=LIMITS) == []


def test_unknown_devices_are_ignored():
    rows = [row(i, 7, at(1 + i, month=10), period_start=None, device="a") for i in range(6)]
    rows.append(row(99, 7, at(5), device=""))
    assert pc.new_devices(rows, periods=[NOV], limits=LIMITS) == []


def test_device_fingerprint_ignores_versions_not_phones():
    old = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1"
    new = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) Safari/605.2"
    android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile Safari/537.36"
    assert pc.device_fingerprint(old)[0] == pc.device_fingerprint(new)[0]
    assert pc.device_fingerprint(old)[0] != pc.device_fingerprint(android)[0]
    assert pc.device_fingerprint(android)[1] == "Chrome · Android"
    assert pc.device_fingerprint(old)[1] == "Safari · iPhone"
    assert pc.device_fingerprint("  ") == ("", "")


# --- property: an unrelated employee changes nobody else's finding -------------------------

positions = st.tuples(st.floats(-60, 60), st.floats(-170, 170))


@given(
    others=st.lists(
        st.tuples(st.integers(0, 29), st.integers(0, 23), positions, st.sampled_from("xyz")),
        max_size=25,
    )
)
def test_an_unrelated_employee_never_changes_another_ones_findings(others):
    mine = [row(i, 7, at(1 + i, month=10), NEAR, device="a", period_start=None) for i in range(6)]
    mine += [
        row(100, 7, at(3, 9), FAR, inside=False, device="b"),
        row(101, 7, at(3, 10), BEIJING, inside=False, device="b"),
        row(102, 7, at(4, 9), FAR, inside=False, device="a"),
    ]
    extra = [
        row(1000 + i, 8, at(1 + d, h), pos, inside=False, device=dev)
        for i, (d, h, pos, dev) in enumerate(others)
    ]

    def mine_only(rows):
        found = [
            *pc.outside_fences(rows, periods=[NOV], fences=FENCES, limits=LIMITS),
            *pc.implausible_jumps(rows, periods=[NOV], limits=LIMITS),
            *pc.new_devices(rows, periods=[NOV], limits=LIMITS),
        ]
        return sorted((h for h in found if h.employee_id == 7), key=lambda h: h.key)

    alone = mine_only(mine)
    assert {h.rule for h in alone} == {"outside_fence", "implausible_jump", "new_device"}
    assert mine_only(mine + extra) == alone
    assert mine_only(extra + mine) == alone


def test_rows_out_of_the_period_are_history_only():
    rows = [row(i, 7, at(1 + i, month=10), FAR, inside=False) for i in range(5)]
    assert pc.outside_fences(rows, periods=[NOV], fences=FENCES, limits=LIMITS) == []
