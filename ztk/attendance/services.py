"""Turning punches into stored AttendanceDay rows: incremental, by range, and finalising."""

from __future__ import annotations

import logging
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ztk import engine
from ztk.core.db import fetch_all, in_clause
from ztk.org.models import AttendanceGroup, Employee
from ztk.org.zones import zone_names
from ztk.punches.models import Punch, PunchVoid
from ztk.scheduling.hooks import ScheduleChange
from ztk.scheduling.plans import build_plans, exemptions_for
from ztk.scheduling.selectors import affected_pairs

from .days import closed_ranges, in_ranges
from .models import AttendanceDay, PendingRecompute
from .overtime_inputs import overtime_inputs

log = logging.getLogger(__name__)

FINALISE_GRACE = timedelta(hours=2)
# The columns an upsert sets: every column of the engine's row but the key.
UPDATE_FIELDS = [c for c in engine.ROW_COLUMNS if c not in ("employee_id", "day")]


def recompute(
    pairs: Iterable[tuple[int, date]],
    *,
    now: datetime | None = None,
    finalise: bool = False,
) -> int:
    """Recompute the given employee-days and upsert them; returns the number of rows written.

    Days in a closed period are left alone. `finalise` marks the days final (missing → absent).
    """
    by_employee: dict[int, set[date]] = defaultdict(set)
    for employee_id, day in pairs:
        by_employee[employee_id].add(day)
    return _recompute(by_employee, now=now or timezone.now(), finalise=finalise)


def recompute_punched(
    pairs: Iterable[tuple[int, date]],
    punch_ids: Iterable[int],
    *,
    now: datetime | None = None,
    punch_times: Mapping[int, Iterable[datetime]] | None = None,
) -> int:
    """Recompute, of the candidate employee-days `pairs`, only those new punches landed on.

    `pairs` are the candidate dates of the punches (``engine.affected_dates``: L - 1, L,
    L + 1); a punch changes the result of the one attendance date it is partitioned to and
    of no other, so the other candidates (whose inputs did not change) are skipped.
    `punch_times` (employee id -> instants of the new punches) saves reading them: with
    them the dates are known before the punches around them are read.
    """
    by_employee: dict[int, set[date]] = defaultdict(set)
    for employee_id, day in pairs:
        by_employee[employee_id].add(day)
    only = set(punch_ids)
    if punch_times is None:
        punch_times = _punch_times(sorted(only))
    times = {e: list(t) for e, t in punch_times.items()}
    rows = _evaluate(
        by_employee,
        now=now or timezone.now(),
        finalise=False,
        only_punches=only,
        new_punches=times,
    )
    upsert_days(rows)
    return len(rows)


def _punch_times(ids: list[int]) -> dict[int, list[datetime]]:
    times: dict[int, list[datetime]] = defaultdict(list)
    if ids:
        for employee_id, at in _select(
            f"SELECT employee_id, at FROM {Punch._meta.db_table} WHERE {{ids}}", "id", ids, []
        ):
            times[employee_id].append(_aware(at))
    return times


class _Who(NamedTuple):
    """What build_plans needs of an employee."""

    pk: int
    attendance_group_id: int | None


# SQLite's default limit is 999 bound parameters a statement.
_IN_LIMIT = 900
_UTC = UTC


def _id_clauses(column: str, ids: list[int]) -> list[tuple[str, list[int]]]:
    """WHERE clauses covering sorted ``ids``: one range when they are dense, else IN lists.

    A range may also match ids outside the set; callers drop those rows.
    """
    if len(ids) > _IN_LIMIT and ids[-1] - ids[0] < 2 * len(ids):
        return [(f"{column} BETWEEN %s AND %s", [ids[0], ids[-1]])]
    if connection.vendor == "postgresql":  # one array parameter, any length
        return [in_clause(column, ids)]
    return [
        in_clause(column, part)
        for part in (ids[i : i + _IN_LIMIT] for i in range(0, len(ids), _IN_LIMIT))
    ]


def _select(sql: str, column: str, ids: list[int], params: list[Any]) -> list[tuple]:
    """Run ``sql`` (with ``{ids}`` for the id clause) for every clause of ``ids``."""
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for clause, id_params in _id_clauses(column, ids):
            cursor.execute(sql.format(ids=clause), [*id_params, *params])
            rows.extend(cursor.fetchall())
    return rows


def _aware(value: Any) -> datetime:
    """A stored instant as an aware datetime (SQLite hands back naive UTC or text)."""
    if value.__class__ is str:
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value


def _read_employees(ids: list[int]) -> list[tuple[int, int | None, str, int]]:
    """(id, group id, time zone, day boundary hour) of each employee: one query (two when
    some employee has no group: the zone rule, ztk.org.zones, then reads the company's)."""
    wanted = set(ids)
    rows = [
        row
        for row in _select(
            f"SELECT e.id, e.attendance_group_id, g.time_zone, g.day_boundary_hour "
            f"FROM {Employee._meta.db_table} e LEFT JOIN {AttendanceGroup._meta.db_table} g "
            "ON g.id = e.attendance_group_id WHERE {ids}",
            "e.id",
            ids,
            [],
        )
        if row[0] in wanted
    ]
    names = zone_names(tz for _pk, _g, tz, _hour in rows)
    return [(pk, g, names[tz], hour or 0) for pk, g, tz, hour in rows]


def _read_finalised(ids: list[int], start: date, end: date) -> set[tuple[int, date]]:
    wanted = set(ids)
    ops = connection.ops
    finalised = {
        (employee_id, day if day.__class__ is date else date.fromisoformat(str(day)))
        for employee_id, day in _select(
            f"SELECT employee_id, day FROM {AttendanceDay._meta.db_table} "
            "WHERE {ids} AND day >= %s AND day <= %s AND finalised = %s",
            "employee_id",
            ids,
            [ops.adapt_datefield_value(start), ops.adapt_datefield_value(end), True],
        )
        if employee_id in wanted
    }
    return finalised


def _read_punches(
    ids: list[int], lo: datetime, hi: datetime, *, scan: bool = False
) -> dict[int, list[engine.PunchIn]]:
    """Punches of ``ids`` in [lo, hi] by employee.

    ``scan``: one pass over the time range, rows of other employees dropped here — for a
    range recompute of most employees, cheaper than one index probe per punch.
    """
    ops = connection.ops
    # SQLite: the instant as text, parsed by fromisoformat (the column's registered
    # converter parses it with a regular expression, several times slower).
    at_sql = "p.at || ''" if connection.vendor == "sqlite" else "p.at"
    select = (
        f"SELECT p.employee_id, p.id, {at_sql}, p.source, v.id FROM {Punch._meta.db_table} p "
        f"LEFT JOIN {PunchVoid._meta.db_table} v ON v.punch_id = p.id "
    )
    bounds = [ops.adapt_datetimefield_value(lo), ops.adapt_datetimefield_value(hi)]
    if scan:
        with connection.cursor() as cursor:
            cursor.execute(f"{select} WHERE p.at >= %s AND p.at <= %s", bounds)
            rows = cursor.fetchall()
    else:
        rows = _select(
            select + "WHERE {ids} AND p.at >= %s AND p.at <= %s ORDER BY p.employee_id",
            "p.employee_id",
            ids,
            bounds,
        )
    wanted = set(ids)
    punches: dict[int, list[engine.PunchIn]] = defaultdict(list)
    make = engine.stored_punch
    for employee_id, punch_id, at, source, void_id in rows:
        if employee_id in wanted:
            punches[employee_id].append(make(punch_id, _aware(at), source, void_id is not None))
    return punches


def _recompute(
    by_employee: dict[int, set[date]],
    *,
    now: datetime,
    finalise: bool,
    only_punches: set[int] | None = None,
) -> int:
    rows = _evaluate(by_employee, now=now, finalise=finalise, only_punches=only_punches)
    upsert_days(rows)
    return len(rows)


def _evaluate(
    by_employee: dict[int, set[date]],
    *,
    now: datetime,
    finalise: bool,
    only_punches: set[int] | None = None,
    new_punches: Mapping[int, list[datetime]] | None = None,
    known_punches: Mapping[int, list[engine.PunchIn]] | None = None,
) -> list[engine.DayRow]:
    """The rows of the given employee-days, read and evaluated, not written.

    ``new_punches`` (with ``only_punches``): the instants of the new punches by employee;
    the candidate days are then narrowed to the dates those punches belong to before the
    punches are read (the date of a punch depends on the plans only). ``known_punches``:
    every punch of these employees within reach of the dates, already read.
    """
    if not by_employee:
        return []
    start = min(min(days) for days in by_employee.values())
    end = max(max(days) for days in by_employee.values())
    ids = sorted(by_employee)
    employees = _read_employees(ids)
    if not employees:
        return []
    # Resolved by the zone rule (ztk.org.zones); None: the employees without a group.
    zones: dict[int | None, tuple[str, int]] = {g: (tz, hour) for _pk, g, tz, hour in employees}
    # Neighbouring days decide which day a punch near midnight belongs to.
    plans = build_plans(
        [_Who(pk, g) for pk, g, _tz, _hour in employees],
        start - timedelta(days=1),
        end + timedelta(days=1),
        zones=zones,
    )
    span = [start - timedelta(days=1) + timedelta(days=i) for i in range((end - start).days + 3)]
    if new_punches is not None:
        narrowed: dict[int, set[date]] = {}
        for pk, *_rest in employees:
            times = new_punches.get(pk)
            if not times:
                continue
            by_date = {d: p for d in span if (p := plans.get((pk, d))) is not None}
            days = {engine.attendance_date_for(t, by_date) for t in times} & by_employee[pk]
            if days:
                narrowed[pk] = days
        if not narrowed:
            return []
        by_employee = narrowed
        employees = [row for row in employees if row[0] in narrowed]
        ids = sorted(narrowed)
        start = min(min(days) for days in narrowed.values())
        end = max(max(days) for days in narrowed.values())
        span = [start + timedelta(days=i) for i in range(-1, (end - start).days + 2)]
    punches: Mapping[int, list[engine.PunchIn]]
    if known_punches is None:
        # Only the punches that can belong to the dates asked for (an employee's plans
        # share their group's zone and boundary hour; engine.punch_reach).
        reach = engine.punch_reach(
            plan for (_pk, day), plan in plans.items() if start <= day <= end
        )
        finalised_before = _read_finalised(ids, start, end)
        punches = _read_punches(ids, *reach) if reach is not None else {}
    else:
        finalised_before = _read_finalised(ids, start, end)
        punches = known_punches
    exemptions = exemptions_for(
        [row[0] for row in employees], start, end, zones={pk: tz for pk, _g, tz, _h in employees}
    )
    closed = closed_ranges(zones, start, end)
    overtime = overtime_inputs(ids, zones, start, end)
    compute_overtime = engine.compute_overtime
    no_spans: list[tuple[datetime, datetime]] = []

    no_exemptions: list[engine.Exemption] = []
    no_punches: list[engine.PunchIn] = []
    today_in: dict[str, date] = {}
    out: list[engine.DayRow] = []
    day_row = engine.day_row
    bare: dict[tuple[int, bool], engine.DayRow] = {}  # plans stay referenced by ``plans``
    for pk, group_id, tz_name, _hour in employees:
        wanted = by_employee[pk]
        ranges = closed.get(group_id, [])
        employee_punches = punches.get(pk, no_punches)
        if employee_punches:
            employee_plans = [p for p in (plans.get((pk, d)) for d in span) if p is not None]
            buckets = engine.partition_punches(employee_plans, employee_punches)
        else:
            buckets = {}
        if only_punches is not None and new_punches is None:
            # (With new_punches, ``wanted`` is already their dates: the same rule.)
            wanted = {
                day for day in wanted if any(p.id in only_punches for p in buckets.get(day, ()))
            }
        today = today_in.get(tz_name)
        if today is None:
            today = today_in[tz_name] = now.astimezone(ZoneInfo(tz_name)).date()
        for day in sorted(wanted):
            if day > today or (ranges and in_ranges(day, ranges)):
                continue
            plan = plans.get((pk, day))
            if plan is None:
                continue
            final = finalise or (pk, day) in finalised_before
            as_of = None if final else now
            bucket = buckets.get(day, no_punches)
            day_exemptions = exemptions.get((pk, day), no_exemptions)
            if not bucket and not day_exemptions:
                # Nothing but the plan (shared between employees) decides the row.
                key = (id(plan), final)
                row = bare.get(key)
                if row is None:
                    row = bare[key] = day_row(
                        pk, plan, (), as_of=as_of, finalised=final, computed_at=now
                    )
                out.append(row._replace(employee_id=pk))
                continue
            row = day_row(
                pk, plan, bucket, day_exemptions, as_of=as_of, finalised=final, computed_at=now
            )
            if len(bucket) > 1:
                found = compute_overtime(
                    plan,
                    bucket,
                    overtime.policy(group_id),
                    overtime.approved.get((pk, day), no_spans),
                )
                if found.minutes:
                    row = row._replace(
                        overtime_minutes=found.minutes,
                        overtime_counted_minutes=found.counted_minutes,
                    )
            out.append(row)
    return out


# Where upsert_days puts the adapted values of the row's date, decimal and time columns.
_DAY, _ABSENT_DAYS, _COMPUTED_AT = (
    engine.ROW_COLUMNS.index(column) for column in ("day", "absent_days", "computed_at")
)


def upsert_days(
    rows: list[engine.DayRow], *, unless_changed: Mapping[tuple[int, date], Any] | None = None
) -> None:
    """INSERT … ON CONFLICT DO UPDATE in one executemany: the ORM's bulk path costs 10× more.

    ``computed_at`` is the time of writing. With ``unless_changed`` ((employee, day) → the
    stored ``computed_at`` as read before the rows were evaluated, None when absent), a
    row is left as it is if it was written since: that writer read newer inputs.

    On PostgreSQL, from COPY_UPSERT_MIN rows, the rows are copied into a temporary table
    and upserted from it by one statement (``_copy_upsert``): an executemany sends one
    statement per row, which cost the server 6× more than COPY and one INSERT … SELECT.
    """
    if not rows:
        return
    if connection.vendor == "postgresql" and len(rows) >= COPY_UPSERT_MIN:
        _copy_upsert(rows, unless_changed)
        return
    table = AttendanceDay._meta.db_table
    columns = ", ".join(engine.ROW_COLUMNS)
    placeholders = ", ".join(["%s"] * len(engine.ROW_COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in UPDATE_FIELDS)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT (employee_id, day) DO UPDATE SET {updates}"
    )
    ops = connection.ops
    # Few distinct days and decimals: each adapted once.
    days = {d: ops.adapt_datefield_value(d) for d in {r.day for r in rows}}
    decimals = {v: ops.adapt_decimalfield_value(v, 3, 1) for v in {r.absent_days for r in rows}}
    stamp = ops.adapt_datetimefield_value(timezone.now())
    adapted: list[list[Any]] = []
    for row in rows:
        values: list[Any] = list(row)
        values[_DAY] = days[row.day]
        values[_ABSENT_DAYS] = decimals[row.absent_days]
        values[_COMPUTED_AT] = stamp
        if unless_changed is not None:
            values.append(unless_changed.get((row.employee_id, row.day)))
        adapted.append(values)
    if unless_changed is not None:
        same = "IS" if connection.vendor == "sqlite" else "IS NOT DISTINCT FROM"
        sql += f" WHERE {table}.computed_at {same} %s"
    with connection.cursor() as cursor:
        for i in range(0, len(adapted), 2000):
            cursor.executemany(sql, adapted[i : i + 2000])


# PostgreSQL: from this many rows upsert_days copies them (a few statements more, each
# a round trip: a single day keeps the one INSERT).
COPY_UPSERT_MIN = 50
# The temporary table's name carries the row's columns: a connection kept across an
# upgrade that changed them never copies into a table of the old shape.
_COPY_TABLE = f"ztk_upsert_days_{zlib.crc32(','.join(engine.ROW_COLUMNS).encode()):08x}"


def _copy_upsert(
    rows: list[engine.DayRow], unless_changed: Mapping[tuple[int, date], Any] | None
) -> None:
    """upsert_days on PostgreSQL: COPY into a temporary table (emptied at commit), then

    - without ``unless_changed``: one INSERT … SELECT … ON CONFLICT DO UPDATE;
    - with it: one UPDATE of the stored rows whose ``computed_at`` is still the one read
      (``expected``; a row absent then has None, so a row inserted since is left alone),
      then one INSERT … ON CONFLICT DO NOTHING of the rows not stored — what the
      executemany's ``ON CONFLICT DO UPDATE … WHERE computed_at IS NOT DISTINCT FROM``
      does row by row (a row written by another transaction meanwhile is re-checked
      against the condition by the UPDATE, and skipped by the INSERT).

    A key given twice keeps its last row, as the executemany's second statement would.
    """
    table = AttendanceDay._meta.db_table
    temp = _COPY_TABLE
    columns = ", ".join(engine.ROW_COLUMNS)
    stamp = timezone.now()
    last: dict[tuple[int, date], engine.DayRow] = {(r.employee_id, r.day): r for r in rows}
    # A transaction of its own when there is none (the table is emptied at commit).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {temp} ON COMMIT DELETE ROWS AS "
            f"SELECT {columns}, computed_at AS expected FROM {table} WITH NO DATA"
        )
        # Rows of an earlier call in the same transaction are still there.
        cursor.execute(f"DELETE FROM {temp}")
        expected = unless_changed.get if unless_changed is not None else None
        with cursor.cursor.copy(f"COPY {temp} ({columns}, expected) FROM STDIN") as copy:
            write = copy.write_row
            for key, row in last.items():
                values: list[Any] = list(row)
                values[_COMPUTED_AT] = stamp
                values.append(expected(key) if expected is not None else None)
                write(values)
        # Rows are locked in (employee, day) order, as the row-by-row path writes them,
        # so two writers of overlapping days wait for each other instead of deadlocking.
        if unless_changed is None:
            updates = ", ".join(f"{c} = excluded.{c}" for c in UPDATE_FIELDS)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {temp} "
                f"ORDER BY employee_id, day ON CONFLICT (employee_id, day) DO UPDATE SET {updates}"
            )
            return
        cursor.execute(
            f"SELECT 1 FROM {table} a JOIN {temp} t ON a.employee_id = t.employee_id "
            "AND a.day = t.day ORDER BY a.employee_id, a.day FOR UPDATE OF a"
        )
        updates = ", ".join(f"{c} = t.{c}" for c in UPDATE_FIELDS)
        cursor.execute(
            f"UPDATE {table} SET {updates} FROM {temp} t "
            f"WHERE {table}.employee_id = t.employee_id AND {table}.day = t.day "
            f"AND t.expected IS NOT NULL AND {table}.computed_at = t.expected"
        )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {temp} "
            "ORDER BY employee_id, day ON CONFLICT (employee_id, day) DO NOTHING"
        )


def _stored_computed_at(ids: list[int], start: date, end: date) -> dict[tuple[int, date], Any]:
    """(employee, day) → computed_at exactly as stored (text on SQLite), for upsert_days."""
    ops = connection.ops
    stamp = "computed_at || ''" if connection.vendor == "sqlite" else "computed_at"
    wanted = set(ids)
    return {
        (employee_id, day if day.__class__ is date else date.fromisoformat(str(day))): at
        for employee_id, day, at in _select(
            f"SELECT employee_id, day, {stamp} FROM {AttendanceDay._meta.db_table} "
            "WHERE {ids} AND day >= %s AND day <= %s",
            "employee_id",
            ids,
            [ops.adapt_datefield_value(start), ops.adapt_datefield_value(end)],
        )
        if employee_id in wanted
    }


# Employee-days from which recompute_range reads all punches of the range in one pass.
SCAN_MIN_EMPLOYEE_DAYS = 50_000


def recompute_range(
    *,
    start: date,
    end: date,
    group_id: int | None = None,
    now: datetime | None = None,
    chunk: int = 1000,
    workers: int | None = None,
) -> int:
    """Recompute every active employee (of a group) for a date range, in chunks of employees.

    Each chunk is one read of plans, exemptions and punches, and one transaction. From
    PARALLEL_MIN_EMPLOYEE_DAYS on, chunks are recomputed by worker processes, one per CPU
    (see ``_processes``; ``workers`` sets how many, 1 for none); otherwise, from
    SCAN_MIN_EMPLOYEE_DAYS on, the punches of the whole range are read in one pass first.
    """
    qs = Employee.objects.filter(active=True)
    if group_id is not None:
        qs = qs.filter(attendance_group_id=group_id)
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    chunks = [ids[i : i + chunk] for i in range(0, len(ids), chunk)]
    processes = _processes(len(ids) * len(days), workers)
    if processes > 1 and len(ids) > PARALLEL_CHUNK:
        # Smaller chunks for the workers: their writes take turns more often (measured
        # 2 workers × 500 employees fastest for 10,000 employees × 31 days on 2 cores).
        parts = [ids[i : i + PARALLEL_CHUNK] for i in range(0, len(ids), PARALLEL_CHUNK)]
        return _recompute_in_processes(parts, start, end, now, processes)
    if len(ids) * len(days) < SCAN_MIN_EMPLOYEE_DAYS or not days:
        written = 0
        for part in chunks:
            with transaction.atomic():
                written += recompute(((e, d) for e in part for d in days), now=now)
        return written
    # Many employees: every punch within reach of the range (any zone: UTC+14 to UTC-12)
    # in one pass over the time range, then chunk by chunk as above.
    # Punches and voids committed after that pass are merged into each chunk inside its
    # transaction (on SQLite it holds the write lock, so nothing can slip in after that).
    lo = datetime.combine(start - timedelta(days=1), time.min, tzinfo=_UTC)
    hi = datetime.combine(end + timedelta(days=2), time.min, tzinfo=_UTC)
    lo, hi = lo - timedelta(hours=16), hi + timedelta(hours=14)
    last_punch, last_void = _last_ids()
    known = _read_punches(ids, lo, hi, scan=True)
    everyone = set(ids)
    written = 0
    for part in chunks:
        with transaction.atomic():
            last_punch, last_void = _merge_later(known, everyone, lo, hi, last_punch, last_void)
            rows = _evaluate(
                {e: set(days) for e in part},
                now=now or timezone.now(),
                finalise=False,
                known_punches={e: known[e] for e in part if e in known},
            )
            upsert_days(rows)
        written += len(rows)
    return written


# Employee-days from which recompute_range hands its chunks to worker processes.
PARALLEL_MIN_EMPLOYEE_DAYS = 50_000
PARALLEL_MAX_WORKERS = 4
PARALLEL_CHUNK = 500


def _processes(employee_days: int, workers: int | None) -> int:
    """How many worker processes a range recompute uses (1: it works alone).

    Workers are forked, so only outside any transaction (a worker must see what is
    committed, and writes its chunks in transactions of its own) and on a database each
    process can open (not in-memory SQLite). Unasked (``workers`` None), only for
    PARALLEL_MIN_EMPLOYEE_DAYS or more and from a single-threaded process (``ztk
    recompute``; a web or Huey thread recomputes alone): forking a process whose other
    threads hold locks is unsafe. On SQLite the workers' writes take turns on the write
    lock; their evaluation, most of the work, runs side by side.
    """
    import os
    import threading

    if workers is None:
        if employee_days < PARALLEL_MIN_EMPLOYEE_DAYS or threading.active_count() > 1:
            return 1
        workers = min(os.cpu_count() or 1, PARALLEL_MAX_WORKERS)
    if workers <= 1 or os.name != "posix" or connection.in_atomic_block:
        return 1
    if connection.vendor not in ("sqlite", "postgresql"):
        return 1
    # The stubs type `connection` as the base wrapper; SQLite's (vendor checked first) has it.
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        return 1
    return workers


def _recompute_chunk(task: tuple[list[int], date, date, datetime | None]) -> int:
    """A worker's share: one chunk read, evaluated and written in its own transaction.

    A day recomputed by someone else after this chunk read it is left as they wrote it
    (``upsert_days(unless_changed=…)``): they saw newer inputs.
    """
    ids, start, end, now = task
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    try:
        stored = _stored_computed_at(ids, start, end)
        rows = _evaluate({e: set(days) for e in ids}, now=now or timezone.now(), finalise=False)
        with transaction.atomic():
            upsert_days(rows, unless_changed=stored)
        return len(rows)
    finally:
        # A worker ends without Django's clean-up: leave no session open on the server.
        connection.close()


def _recompute_in_processes(
    chunks: list[list[int]], start: date, end: date, now: datetime | None, processes: int
) -> int:
    import multiprocessing

    from django.db import connections

    # Closed before forking: each worker opens its own connection on first use, so no
    # handle is shared between processes.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    tasks = [(part, start, end, now) for part in chunks]
    with context.Pool(min(processes, len(chunks))) as pool:
        written = sum(pool.imap_unordered(_recompute_chunk, tasks))
        pool.close()
        pool.join()
    return written


def _last_ids() -> tuple[int, int]:
    """The highest punch and void ids now (both tables are append-only)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {Punch._meta.db_table}), "
            f"(SELECT MAX(id) FROM {PunchVoid._meta.db_table})"
        )
        punch, void = cursor.fetchone()
    return punch or 0, void or 0


def _merge_later(
    known: dict[int, list[engine.PunchIn]],
    employees: set[int],
    lo: datetime,
    hi: datetime,
    last_punch: int,
    last_void: int,
) -> tuple[int, int]:
    """Add to ``known`` the punches of ``employees`` stored after ids ``last_punch`` /
    ``last_void`` (new punches, newly voided ones); returns the ids now highest.

    Rows read by the pass that also pass here are not duplicated: ids are compared.
    """
    newest_punch, newest_void = _last_ids()
    ops = connection.ops
    at_sql = "p.at || ''" if connection.vendor == "sqlite" else "p.at"
    changed: dict[int, dict[int, engine.PunchIn]] = {}
    with connection.cursor() as cursor:
        if newest_punch > last_punch:
            cursor.execute(
                f"SELECT p.employee_id, p.id, {at_sql}, p.source, v.id "
                f"FROM {Punch._meta.db_table} p LEFT JOIN {PunchVoid._meta.db_table} v "
                "ON v.punch_id = p.id WHERE p.id > %s AND p.at >= %s AND p.at <= %s",
                [
                    last_punch,
                    ops.adapt_datetimefield_value(lo),
                    ops.adapt_datetimefield_value(hi),
                ],
            )
            for employee_id, punch_id, at, source, void_id in cursor.fetchall():
                if employee_id in employees:
                    punch = engine.stored_punch(punch_id, _aware(at), source, void_id is not None)
                    changed.setdefault(employee_id, {})[punch_id] = punch
        if newest_void > last_void:
            cursor.execute(
                f"SELECT p.employee_id, p.id, {at_sql}, p.source FROM {PunchVoid._meta.db_table} v "
                f"JOIN {Punch._meta.db_table} p ON p.id = v.punch_id WHERE v.id > %s",
                [last_void],
            )
            for employee_id, punch_id, at, source in cursor.fetchall():
                if employee_id in employees and lo <= _aware(at) <= hi:
                    punch = engine.stored_punch(punch_id, _aware(at), source, True)
                    changed.setdefault(employee_id, {})[punch_id] = punch
    for employee_id, punches in changed.items():
        kept = [p for p in known.get(employee_id, ()) if p.id not in punches]
        known[employee_id] = kept + list(punches.values())
    return max(last_punch, newest_punch), max(last_void, newest_void)


SCHEDULE_LOOKBACK_DAYS = 62


def recompute_schedule_changes(changes: Iterable[ScheduleChange]) -> None:
    """A shift, pattern, roster, calendar or exemption changed: recompute the open past.

    Runs after the schedule write commits (scheduling's hook); closed periods stay as they
    are, and days older than SCHEDULE_LOOKBACK_DAYS are left to `ztk recompute`. The days
    either side of a changed one are recomputed too: a plan decides which punches its
    neighbours get (windows of consecutive dates are cut where they meet,
    ``engine.split_overlaps``, and the earlier date wins a punch both could take).
    """
    today = timezone.localdate()
    pairs = affected_pairs(
        changes, lower=today - timedelta(days=SCHEDULE_LOOKBACK_DAYS), upper=today
    )
    one_day = timedelta(days=1)
    pairs_list = sorted(
        {(e, d + k * one_day) for e, d in pairs for k in (-1, 0, 1) if d + k * one_day <= today}
    )
    for i in range(0, len(pairs_list), 20_000):
        with transaction.atomic():
            recompute(pairs_list[i : i + 20_000])


# --------------------------------------------------------------------------- deferred


def defer_recompute(punches: Iterable[tuple[int, date, int]]) -> int:
    """Queue the days of new punches — (employee id, local date, punch id) — for the drain.

    In the caller's transaction, so the queue entries commit with the punches or not at
    all; the drain is started once they commit. Repeats coalesce: one row per employee and
    local date, its version raised by every batch that adds to it. Returns the rows queued.
    """
    lowest: dict[tuple[int, date], int] = {}
    for employee_id, day, punch_id in punches:
        key = (employee_id, day)
        found = lowest.get(key)
        if found is None or punch_id < found:
            lowest[key] = punch_id
    if not lowest:
        return 0
    table = PendingRecompute._meta.db_table
    smaller = "MIN" if connection.vendor == "sqlite" else "LEAST"
    sql = (
        f"INSERT INTO {table} (employee_id, day, first_punch_id, version, queued_at) "
        "VALUES (%s, %s, %s, 1, %s) ON CONFLICT (employee_id, day) DO UPDATE SET "
        f"version = {table}.version + 1, "
        f"first_punch_id = {smaller}({table}.first_punch_id, excluded.first_punch_id)"
    )
    ops = connection.ops
    queued_at = ops.adapt_datetimefield_value(timezone.now())
    ordered = sorted(lowest.items())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement for the batch (an executemany is one per row on the server).
            cursor.execute(
                sql.replace(
                    "VALUES (%s, %s, %s, 1, %s)",
                    "SELECT e, d, p, 1, %s FROM unnest(%s::bigint[], %s::date[], %s::bigint[])"
                    " AS q(e, d, p) ORDER BY e, d",
                ),
                [
                    queued_at,
                    [employee_id for (employee_id, _day), _p in ordered],
                    [day for (_e, day), _p in ordered],
                    [punch_id for _key, punch_id in ordered],
                ],
            )
        else:
            cursor.executemany(
                sql,
                [
                    (employee_id, ops.adapt_datefield_value(day), punch_id, queued_at)
                    for (employee_id, day), punch_id in ordered
                ],
            )
    transaction.on_commit(_start_drain)
    return len(lowest)


def _start_drain() -> None:
    # cycle: tasks imports services (drain_pending) and finalise, which imports services
    from .tasks import drain_recompute_queue

    drain_recompute_queue()


def drain_pending(
    *,
    now: datetime | None = None,
    chunk: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Recompute the queued days, oldest first, chunk by chunk until the queue is empty
    (or, between chunks, ``stop()`` says the worker is stopping).

    A chunk (``settings.RECOMPUTE_DRAIN_CHUNK`` days) is read and evaluated outside any
    transaction (on SQLite a write transaction would hold up every punch arriving
    meanwhile), then written in one: each day only if nobody recomputed it since it was
    read (that writer saw newer inputs), each queue row removed only if no batch added to
    it since it was read. A crash leaves the rows queued. Returns the days written.
    """
    table = PendingRecompute._meta.db_table
    chunk = chunk or settings.RECOMPUTE_DRAIN_CHUNK
    written = 0
    while stop is None or not stop():
        rows = fetch_all(
            f"SELECT employee_id, day, first_punch_id, version FROM {table} ORDER BY id LIMIT %s",
            [chunk],
        )
        if not rows:
            return written
        queued = [
            (e, d if d.__class__ is date else date.fromisoformat(str(d)), first, version)
            for e, d, first, version in rows
        ]
        one_day = timedelta(days=1)
        stored = _stored_computed_at(
            sorted({e for e, *_rest in queued}),
            min(d for _e, d, _f, _v in queued) - one_day,
            max(d for _e, d, _f, _v in queued) + one_day,
        )
        days = _evaluate_queued(queued, now=now or timezone.now())
        with transaction.atomic():
            upsert_days(days, unless_changed=stored)
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # One statement for the chunk (an executemany is one per row). Rows
                    # locked in (employee, day) order, the order defer_recompute inserts
                    # and raises them in: in any other order a batch arriving meanwhile
                    # and the drain can each hold a row the other waits for (deadlock).
                    cursor.execute(
                        f"DELETE FROM {table} WHERE id IN (SELECT r.id FROM {table} r"
                        " JOIN unnest(%s::bigint[], %s::date[], %s::integer[]) AS q(e, d, v)"
                        " ON r.employee_id = q.e AND r.day = q.d AND r.version = q.v"
                        " ORDER BY r.employee_id, r.day FOR UPDATE OF r)",
                        [
                            [e for e, _d, _f, _v in queued],
                            [d for _e, d, _f, _v in queued],
                            [version for _e, _d, _f, version in queued],
                        ],
                    )
                else:
                    cursor.executemany(
                        f"DELETE FROM {table} WHERE employee_id = %s AND day = %s AND version = %s",
                        [
                            (e, connection.ops.adapt_datefield_value(d), version)
                            for e, d, _first, version in queued
                        ],
                    )
        written += len(days)
    return written


def _evaluate_queued(
    queued: list[tuple[int, date, int, int]], *, now: datetime
) -> list[engine.DayRow]:
    """The rows of the days the punches waiting in ``queued`` belong to, evaluated as
    record_punches would have done at once: the waiting punches are read back (ids from
    each row's first_punch_id, within reach of its local date) and the days narrowed to
    the dates they belong to, as recompute_punched does."""
    floor: dict[int, int] = {}
    local_days: dict[int, set[date]] = defaultdict(set)
    one_day = timedelta(days=1)
    for employee_id, day, first, _version in queued:
        floor[employee_id] = min(first, floor.get(employee_id, first))
        local_days[employee_id].add(day)
    zones = {pk: ZoneInfo(tz) for pk, _g, tz, _h in _read_employees(sorted(floor))}
    days = [day for _e, day, _f, _v in queued]
    # Any zone, UTC+14 to UTC-12: the instants of local dates min(days) .. max(days).
    lo = datetime.combine(min(days) - one_day, time.min, tzinfo=_UTC)
    hi = datetime.combine(max(days) + 2 * one_day, time.min, tzinfo=_UTC)
    ops = connection.ops
    at_sql = "p.at || ''" if connection.vendor == "sqlite" else "p.at"
    ids: set[int] = set()
    times: dict[int, list[datetime]] = defaultdict(list)
    for punch_id, employee_id, at in _select(
        f"SELECT p.id, p.employee_id, {at_sql} FROM {Punch._meta.db_table} p "
        "WHERE {ids} AND p.at >= %s AND p.at <= %s AND p.id >= %s",
        "p.employee_id",
        sorted(floor),
        [ops.adapt_datetimefield_value(lo), ops.adapt_datetimefield_value(hi), min(floor.values())],
    ):
        zone = zones.get(employee_id)
        if zone is None or punch_id < floor.get(employee_id, punch_id + 1):
            continue
        moment = _aware(at)
        # Only the punches of the queued local dates: a later row's punches wait for it.
        if moment.astimezone(zone).date() in local_days[employee_id]:
            ids.add(punch_id)
            times[employee_id].append(moment)
    if not ids:
        return []
    by_employee = {
        employee_id: {day + k * one_day for day in local for k in (-1, 0, 1)}
        for employee_id, local in local_days.items()
    }
    return _evaluate(by_employee, now=now, finalise=False, only_punches=ids, new_punches=times)


def pending_dates(employee_id: int, start: date, end: date) -> set[date]:
    """Dates in [start, end] whose result may still change by punches waiting in the queue."""
    one_day = timedelta(days=1)
    found: set[date] = set()
    for day in PendingRecompute.objects.filter(
        employee_id=employee_id, day__gte=start - one_day, day__lte=end + one_day
    ).values_list("day", flat=True):
        found.update(d for d in (day - one_day, day, day + one_day) if start <= d <= end)
    return found
