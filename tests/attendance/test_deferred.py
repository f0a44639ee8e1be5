"""Large batches: their days are queued in the punches' transaction and drained later.

The drain must store exactly what recomputing at once stores, lose nothing on a crash,
and never drop a queue row that a later batch added to while it was being drained.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.attendance.recompute_data import night_and_early_week, reference_rows, stored_rows
from ztk.attendance import services
from ztk.attendance.models import AttendanceDay, PendingRecompute
from ztk.engine import PunchIn, partition_punches
from ztk.punches.models import Punch
from ztk.punches.services import PunchInput, record_punches

FIRST = date(2026, 11, 2)  # a Monday


@pytest.fixture
def night_and_day(org, settings):
    """Night shifts crossing midnight, an early day shift and a day boundary hour: the
    case where a punch's local date and its attendance date differ."""
    night_and_early_week(org.group, 5)
    settings.RECOMPUTE_DEFER_ABOVE = 5
    return org


def _inputs(org, seed: int, count: int = 40) -> list[PunchInput]:
    tz = ZoneInfo(org.group.time_zone)
    rng = random.Random(seed)
    items = [
        PunchInput(
            at=datetime.combine(FIRST, time(), tzinfo=tz)
            + timedelta(minutes=rng.randint(0, 8 * 24 * 60), seconds=rng.randint(0, 59)),
            source="device",
            employee_id=person.pk,
            device_sn="SN",
            pin=person.employee_no,
        )
        for person in (org.employee, org.colleague)
        for _ in range(count)
    ]
    rng.shuffle(items)
    return items


def _terminal(org, day: date, *clocks: time) -> list[PunchInput]:
    """Punches of the employee at these local times of ``day``, from a terminal."""
    tz = ZoneInfo(org.group.time_zone)
    return [
        PunchInput(
            at=datetime.combine(day, clock, tzinfo=tz),
            source="device",
            employee_id=org.employee.pk,
            device_sn="SN",
            pin=org.employee.employee_no,
        )
        for clock in clocks
    ]


def _now(org) -> datetime:
    return datetime(2026, 11, 12, 12, tzinfo=ZoneInfo(org.group.time_zone))


def _punched_days(people, now) -> set[tuple[int, date]]:
    """Every (employee, date) that at least one stored punch belongs to, up to today."""
    from ztk.scheduling.plans import build_plans

    first = FIRST - timedelta(days=3)
    span = [first + timedelta(days=i) for i in range(15)]
    plans = build_plans(people, first, span[-1])
    found = set()
    for person in people:
        punches = [
            PunchIn(pk, at, source)
            for pk, at, source in Punch.objects.filter(employee=person).values_list(
                "pk", "at", "source"
            )
        ]
        buckets = partition_punches([plans[(person.pk, d)] for d in span], punches)
        found.update(
            (person.pk, day) for day, bucket in buckets.items() if bucket and day <= now.date()
        )
    return found


@pytest.mark.django_db
def test_a_large_batch_is_queued_and_the_drain_stores_what_at_once_would(
    night_and_day, django_capture_on_commit_callbacks
):
    org, now = night_and_day, _now(night_and_day)
    people = [org.employee, org.colleague]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for i, chunk in enumerate(range(0, 80, 16)):
            items = _inputs(org, seed=3)[chunk : chunk + 16]
            result = record_punches(items, now=now)
            assert result.new == 16
            if i == 0:  # queued, nothing computed yet: the drain has not run
                assert PendingRecompute.objects.exists()
                assert not AttendanceDay.objects.exists()
    assert callbacks, "the commit starts the drain"
    # Re-sending a batch adds no punch and queues nothing more.
    queued = PendingRecompute.objects.count()
    assert record_punches(_inputs(org, seed=3)[:16], now=now).duplicate == 16
    assert PendingRecompute.objects.count() == queued

    written = services.drain_pending(now=now, chunk=3)  # several rounds
    assert written > 0
    assert not PendingRecompute.objects.exists()
    stored = stored_rows([p.pk for p in people])
    assert {row[:2] for row in stored} == _punched_days(people, now)
    assert stored == reference_rows(people, FIRST - timedelta(days=3), 14, now, stored)


@pytest.mark.django_db
def test_a_batch_arriving_during_the_drain_keeps_its_row_queued(night_and_day, monkeypatch):
    org, now = night_and_day, _now(night_and_day)
    wednesday = FIRST + timedelta(days=2)  # the night shift 22:00-06:00
    thursday = wednesday + timedelta(days=1)
    first = _terminal(org, wednesday, *(time(21, 40 + k) for k in range(6)))
    record_punches(first, now=now)
    late_out = _terminal(org, thursday, *(time(6, 1, k) for k in range(6)))
    original = services._evaluate_queued
    calls = []

    def meanwhile(queued, *, now):
        calls.append(len(queued))
        if len(calls) == 1:  # another upload commits between the read and the delete
            record_punches(late_out, now=now)
        return original(queued, now=now)

    monkeypatch.setattr(services, "_evaluate_queued", meanwhile)
    services.drain_pending(now=now)
    assert len(calls) == 2, "the row the second batch added to was drained again"
    assert not PendingRecompute.objects.exists()
    day = AttendanceDay.objects.get(employee=org.employee, day=wednesday)
    assert [s["status"] for s in day.slots] == ["normal", "normal"]
    assert day.slots[1]["punch_at"].startswith(f"{thursday.isoformat()}T06:01:05")


@pytest.mark.django_db
def test_a_failing_drain_loses_nothing(night_and_day, monkeypatch):
    org, now = night_and_day, _now(night_and_day)
    record_punches(_inputs(org, seed=5, count=10), now=now)
    queued = sorted(PendingRecompute.objects.values_list("employee_id", "day", "version"))
    assert queued

    def broken(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(services, "upsert_days", broken)  # inside the write transaction
    with pytest.raises(RuntimeError):
        services.drain_pending(now=now)
    assert sorted(PendingRecompute.objects.values_list("employee_id", "day", "version")) == queued
    assert Punch.objects.count() == 20
    monkeypatch.undo()
    services.drain_pending(now=now)
    assert not PendingRecompute.objects.exists()
    people = [org.employee, org.colleague]
    assert {row[:2] for row in stored_rows([p.pk for p in people])} == _punched_days(people, now)


@pytest.mark.django_db
def test_the_commit_runs_the_drain(night_and_day, django_capture_on_commit_callbacks):
    org, now = night_and_day, _now(night_and_day)
    with django_capture_on_commit_callbacks(execute=True):
        record_punches(_inputs(org, seed=7, count=10), now=now)
    assert not PendingRecompute.objects.exists()
    people = [org.employee, org.colleague]
    assert {row[:2] for row in stored_rows([p.pk for p in people])} == _punched_days(people, now)


@pytest.mark.django_db
def test_small_batches_are_computed_at_once(night_and_day):
    org, now = night_and_day, _now(night_and_day)
    record_punches(_inputs(org, seed=9, count=2), now=now)  # 4 punches, not above 5
    assert not PendingRecompute.objects.exists()
    assert AttendanceDay.objects.exists()


@pytest.mark.django_db
def test_days_waiting_in_the_queue_are_neither_finalised_nor_hidden(night_and_day):
    from ztk.attendance.finalise import finalise_due

    org, now = night_and_day, _now(night_and_day)
    record_punches(_inputs(org, seed=11, count=10), now=now)
    waiting = services.pending_dates(org.employee.pk, FIRST - timedelta(days=1), now.date())
    assert waiting
    services.recompute_range(start=FIRST - timedelta(days=1), end=now.date(), now=now)
    finalise_due(now=now + timedelta(days=1), lookback_days=30)
    finalised = set(
        AttendanceDay.objects.filter(employee=org.employee, finalised=True).values_list(
            "day", flat=True
        )
    )
    assert finalised and not (finalised & waiting)
    services.drain_pending(now=now)
    assert not services.pending_dates(org.employee.pk, FIRST - timedelta(days=1), now.date())


@pytest.mark.django_db
def test_the_drain_never_overwrites_a_day_recomputed_after_it_read(night_and_day, monkeypatch):
    """A web punch recomputed at once while the drain was evaluating: the drain's older
    view of that day is not written over it."""
    org, now = night_and_day, _now(night_and_day)
    tz = ZoneInfo(org.group.time_zone)
    wednesday = FIRST + timedelta(days=2)  # the night shift 22:00-06:00
    ins = _terminal(org, wednesday, *(time(21, 40 + k) for k in range(6)))
    record_punches(ins, now=now)
    original = services._evaluate_queued

    def then_a_web_punch(queued, *, now):
        rows = original(queued, now=now)
        out = PunchInput(
            at=datetime.combine(wednesday + timedelta(days=1), time(6, 2), tzinfo=tz),
            source="web",
            employee_id=org.employee.pk,
        )
        assert record_punches([out], now=now).new == 1  # small: recomputed at once
        return rows

    monkeypatch.setattr(services, "_evaluate_queued", then_a_web_punch)
    services.drain_pending(now=now)
    assert not PendingRecompute.objects.exists()
    day = AttendanceDay.objects.get(employee=org.employee, day=wednesday)
    assert [s["status"] for s in day.slots] == ["normal", "normal"]
    assert day.slots[1]["punch_source"] == "web"


@pytest.mark.django_db
def test_the_day_page_says_when_punches_of_the_day_are_still_being_counted(night_and_day):
    from django.test import Client

    org, now = night_and_day, _now(night_and_day)
    record_punches(_inputs(org, seed=13, count=10), now=now)
    day = min(services.pending_dates(org.employee.pk, FIRST - timedelta(days=1), now.date()))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.employee.user)
    url = f"/attendance/day/{day.isoformat()}/"
    assert "are being counted" in client.get(url).content.decode()
    services.drain_pending(now=now)
    assert "are being counted" not in client.get(url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_range_recompute_in_worker_processes_stores_what_one_process_does(
    night_and_day, monkeypatch
):
    from django.db import connection

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("worker processes need a database file or server (the PostgreSQL pass)")
    org, now = night_and_day, _now(night_and_day)
    for i, item in enumerate(_inputs(org, seed=17, count=30)):
        record_punches([item], now=now + timedelta(seconds=i))
    from ztk.org.models import Employee

    everyone = list(Employee.objects.values_list("pk", flat=True))
    start, end = FIRST - timedelta(days=1), FIRST + timedelta(days=9)
    assert services._processes(2 * 11, 2) == 2
    written_alone = services.recompute_range(start=start, end=end, now=now, workers=1)
    alone = stored_rows(everyone)
    assert any(row[0] == org.employee.pk and row[2] != "absent" for row in alone)
    AttendanceDay.objects.all().delete()
    monkeypatch.setattr(services, "PARALLEL_CHUNK", 2)  # several chunks for two workers
    written = services.recompute_range(start=start, end=end, now=now, workers=2)
    assert written == written_alone == len(alone)
    assert stored_rows(everyone) == alone


@pytest.mark.django_db
@pytest.mark.parametrize("copy_from", [1, 100_000], ids=["copied", "row by row"])
def test_upsert_writes_only_the_days_nobody_wrote_since_they_were_read(
    night_and_day, monkeypatch, copy_from
):
    """The drain's guard, on both ways upsert_days writes (PostgreSQL copies many rows
    through a temporary table; SQLite always sends them row by row): a day rewritten
    since it was read, or stored since it was read as absent, is left as it is; the others
    are written, the absent one inserted."""
    org, now = night_and_day, _now(night_and_day)
    monkeypatch.setattr(services, "COPY_UPSERT_MIN", copy_from)
    pk = org.employee.pk
    days = [FIRST + timedelta(days=i) for i in range(4)]
    services.recompute([(pk, d) for d in days[:3]], now=now)
    read = services._stored_computed_at([pk], days[0], days[-1])
    unless_changed = {(pk, days[0]): read[(pk, days[0])], (pk, days[1]): read[(pk, days[1])]}
    # Read as absent (day 2 was stored since; day 3 is still absent); day 1 rewritten since.
    AttendanceDay.objects.filter(employee_id=pk, day=days[1]).update(
        computed_at=now + timedelta(hours=1)
    )
    rows = services._evaluate({pk: set(days)}, now=now, finalise=False)
    assert len(rows) == 4
    services.upsert_days(
        [r._replace(worked_minutes=4321) for r in rows], unless_changed=unless_changed
    )
    worked = dict(
        AttendanceDay.objects.filter(employee_id=pk, day__in=days).values_list(
            "day", "worked_minutes"
        )
    )
    assert [worked.get(d) == 4321 for d in days] == [True, False, False, True]
    # Without the guard every day is written, the absent ones inserted.
    services.upsert_days([r._replace(worked_minutes=1234) for r in rows])
    assert set(
        AttendanceDay.objects.filter(employee_id=pk, day__in=days).values_list(
            "worked_minutes", flat=True
        )
    ) == {1234}
