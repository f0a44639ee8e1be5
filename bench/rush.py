"""(g) The morning rush: the site as `make run` serves it, with thousands of people at 9.

The demo company is scaled up (`ztk demo-scale`: N people in departments of fifty, their
punches of the last working days, a pending correction for one in twenty) and
`scripts/run.sh` starts gunicorn and the worker exactly as `make run` does — on SQLite, or on
PostgreSQL + Redis when `--db postgresql` (the same discovery as `make test`). Each virtual
user is a real person signed in through the log-in form: nine in ten are employees who open
我的考勤 (the month page), punch over the API and open yesterday's day page; one in ten is a
department head working the inbox (the page, the API list of what waits for them, approve).

At each level of concurrent users three phases of the same length run, one after another,
on the same server:

1. the floor: every user asks the trivial view (`/healthz/live`, one cached query), so the
   web stack's own cost on this machine is measured in this run;
2. the month page alone, every user opening 我的考勤 — its throughput as a share of the
   floor's is the target "≥ 1/3 of the trivial view";
3. the rush: the mix above, with requests/s, p50/p95/p99 and errors per request type.

Afterwards every punch the API confirmed (201 with an id) is looked up in the database: a
missing one is a lost punch. The load generator runs on the same two cores as the server;
it costs both the floor and the pages alike, which is why the figures are ratios.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
RUSH_DIR = ROOT / "var" / "bench-rush"
PG_DB_NAME = "bench_rush"
PASSWORD = "rush-Bench-2026"
HQ = {"latitude": 31.2304, "longitude": 121.4737, "accuracy_m": 15}  # the demo punch area
LEVELS = (10, 50, 200)
APPROVER_SHARE = 10  # one user in ten is a department head
EMPLOYEE_OPS = ("month page", "punch API", "day page")
APPROVER_OPS = ("inbox page", "to-approve API", "approve API")
P95_TARGET_MS = 300  # at 50 users
FLOOR_SHARE_TARGET = 1 / 3


@dataclass
class Tally:
    samples: list[tuple[str, float]] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    details: dict[str, str] = field(default_factory=dict)
    punch_ids: list[int] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RushSite:
    """A fresh installation in var/bench-rush/<db>, scaled, then `scripts/run.sh`."""

    def __init__(self, vendor: str, employees: int, days: int) -> None:
        self.vendor = vendor
        self.dir = RUSH_DIR / vendor
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        drop = ("DATABASE_URL", "REDIS_URL", "HUEY_IMMEDIATE", "ZTK_TESTING")
        self.env = {k: v for k, v in os.environ.items() if k not in drop}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.env.update(ZTK_VAR_DIR=str(self.dir), PORT=str(self.port), HOST="127.0.0.1")
        if vendor == "postgresql":
            self.env.update(DATABASE_URL=self._fresh_postgres(), REDIS_URL=self._redis())
        self.employees, self.days = employees, days

    @staticmethod
    def _fresh_postgres() -> str:
        import psycopg

        from .setup import postgres_server_url

        server = postgres_server_url()
        if server is None:
            raise RuntimeError("no PostgreSQL server answered")
        with psycopg.connect(server, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {PG_DB_NAME} WITH (FORCE)")
            con.execute(f"CREATE DATABASE {PG_DB_NAME}")
        return urlunsplit(urlsplit(server)._replace(path=f"/{PG_DB_NAME}"))

    @staticmethod
    def _redis() -> str:
        import redis

        url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
        client = redis.Redis.from_url(url)
        client.ping()
        client.flushdb()  # its own database number: the cache, sessions and queue of this run
        return url

    def ztk(self, *args: str) -> str:
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "ztk"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"ztk {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def __enter__(self) -> RushSite:
        began = time.monotonic()
        self.ztk("migrate", "--noinput")
        self.ztk("demo", "--if-empty", "--verbosity", "0")
        out = self.ztk(
            "demo-scale",
            f"--employees={self.employees}",
            f"--days={self.days}",
            f"--password={PASSWORD}",
        )
        print(f"  {out.strip()} ({time.monotonic() - began:.0f} s)")
        self.heads = re.findall(r"p\d{5}", out.split("heads:")[1])  # only the first few
        self._log = open(self.dir / "run.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "run.sh")],
            env=self.env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"scripts/run.sh exited; see {self.dir / 'run.log'}")
            try:
                if requests.get(f"{self.base}/healthz/live", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the site did not answer within 300 s")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()

    def missing_punches(self, ids: list[int]) -> list[int]:
        """The ids among `ids` that are not stored (asked through Django: either database)."""
        if not ids:
            return []
        script = (
            "import json,sys\n"
            "from ztk.punches.models import Punch\n"
            "ids=json.load(open(sys.argv[-1]))\n"
            "have=set(Punch.objects.filter(pk__in=ids).values_list('pk',flat=True))\n"
            "print(json.dumps(sorted(set(ids)-have)))\n"
        )
        path = self.dir / "confirmed-punches.json"
        path.write_text(json.dumps(ids))
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-c", _django_script(script), str(path)],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])


def _django_script(body: str) -> str:
    return (
        "import os,django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings')\n"
        "django.setup()\n" + body
    )


class User:
    """One signed-in person: a session with its CSRF token for the API's POSTs."""

    def __init__(self, base: str, login: str) -> None:
        self.login = login
        self.http = requests.Session()
        page = self.http.get(f"{base}/accounts/login/", timeout=60)
        page.raise_for_status()
        answer = self.http.post(
            f"{base}/accounts/login/",
            data={
                "username": login,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=60,
        )
        if answer.status_code != 302 or "sessionid" not in self.http.cookies:
            raise RuntimeError(f"log-in of {login} failed ({answer.status_code})")
        self.csrf = {"X-CSRFToken": self.http.cookies["csrftoken"], "Referer": f"{base}/"}
        self.approved: set[int] = set()


def _log_in_all(base: str, logins: list[str]) -> list[User]:
    users: list[User | None] = [None] * len(logins)
    failures: list[str] = []

    def work(indexes: range) -> None:
        for i in indexes:
            try:
                users[i] = User(base, logins[i])
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append(f"{logins[i]}: {exc}")

    threads = [
        threading.Thread(target=work, args=(range(k, len(logins), 8),), daemon=True)
        for k in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} log-ins failed, e.g. {failures[0]}")
    return [u for u in users if u is not None]


def _employee_step(base: str, user: User, op: str, yesterday: date, out: Tally) -> bool:
    if op == "month page":
        answer = user.http.get(f"{base}/", timeout=60)
        return answer.status_code == 200 and b"<html" in answer.content[:500].lower()
    if op == "day page":
        answer = user.http.get(f"{base}/attendance/day/{yesterday.isoformat()}/", timeout=60)
        return answer.status_code == 200
    answer = user.http.post(
        f"{base}/api/v1/punches", json={**HQ, "channel": "mobile"}, headers=user.csrf, timeout=60
    )
    if answer.status_code == 201:
        out.punch_ids.append(answer.json()["punch"]["id"])
        return True
    # 200: "you punched less than a minute ago" — a correct answer, nothing new stored.
    return answer.status_code == 200 and answer.json().get("duplicate") is True


def _approver_step(base: str, user: User, op: str, out: Tally) -> bool:
    if op == "inbox page":
        return user.http.get(f"{base}/approvals/", timeout=60).status_code == 200
    listing = user.http.get(
        f"{base}/api/v1/corrections",
        params={"scope": "to_approve", "status": "pending"},
        timeout=60,
    )
    if op == "to-approve API" or listing.status_code != 200:
        return listing.status_code == 200
    waiting = [r["id"] for r in listing.json()["items"] if r["id"] not in user.approved]
    if not waiting:
        return True  # the head's inbox is empty: nothing left to approve
    pk = waiting[0]
    answer = user.http.post(
        f"{base}/api/v1/corrections/{pk}/approve", json={}, headers=user.csrf, timeout=60
    )
    user.approved.add(pk)
    return answer.status_code == 200


def _run_phase(
    base: str, users: list[User], mode: str, seconds: float, yesterday: date
) -> tuple[Tally, float]:
    """Every user loops until the deadline; returns what they saw and the elapsed time."""
    tallies = [Tally() for _ in users]
    start = threading.Barrier(len(users) + 1)
    deadline = [0.0]

    def loop(index: int) -> None:
        user, out = users[index], tallies[index]
        rng = random.Random(index)
        approver = user.login in HEADS
        start.wait(timeout=120)
        while time.monotonic() < deadline[0]:
            if mode == "floor":
                op = "trivial view"
            elif mode == "month":
                op = "month page"
            else:
                op = rng.choice(APPROVER_OPS if approver else EMPLOYEE_OPS)
            began = time.perf_counter()
            try:
                if op == "trivial view":
                    answer = user.http.get(f"{base}/healthz/live", timeout=60)
                    ok = answer.status_code == 200
                elif approver and mode == "rush":
                    ok = _approver_step(base, user, op, out)
                else:
                    ok = _employee_step(base, user, op, yesterday, out)
            except (requests.RequestException, ValueError, KeyError) as exc:
                key = f"{op}: {type(exc).__name__}"
                out.errors[key] += 1
                out.details.setdefault(key, repr(exc)[:200])
                continue
            out.samples.append((op, (time.perf_counter() - began) * 1000))
            if not ok:
                out.errors[f"{op}: refused"] += 1

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(len(users))]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds + 0.05
    began = time.monotonic()
    start.wait(timeout=120)
    for thread in threads:
        thread.join()
    merged = Tally()
    for t in tallies:
        merged.samples += t.samples
        merged.errors += t.errors
        merged.details |= t.details
        merged.punch_ids += t.punch_ids
    return merged, time.monotonic() - began


HEADS: set[str] = set()


def _pct(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (float("nan"),) * 3
    q = statistics.quantiles(values, n=100)
    return statistics.median(values), q[94], q[98]


def _line(label: str, samples: list[float], elapsed: float, errors: int) -> str:
    p50, p95, p99 = _pct(samples)
    return (
        f"    {label:<18} {len(samples) / elapsed:>8.1f} req/s   "
        f"p50/p95/p99 {p50:>6.0f} / {p95:>6.0f} / {p99:>6.0f} ms   errors {errors}"
    )


def run(
    *,
    vendor: str = "sqlite",
    employees: int = 10_000,
    days: int = 10,
    seconds: float = 60,
    levels: tuple[int, ...] = LEVELS,
) -> bool:
    """Returns True when every target is met at every level."""
    label = "SQLite" if vendor == "sqlite" else "PostgreSQL + Redis"
    print(f"\n(g) morning rush on {label}: {employees:,} people, {seconds:.0f} s per phase")
    ok = True
    with RushSite(vendor, employees, days) as site:
        n_depts = (employees + 49) // 50
        heads = [f"p{d * 50:05d}" for d in range(n_depts)]
        most = max(levels)
        n_heads = min(len(heads), max(1, most // APPROVER_SHARE))
        staff = [f"p{i:05d}" for i in range(employees) if i % 50 and i % 20 != 1]
        HEADS.clear()
        HEADS.update(heads[:n_heads])
        print(f"  signing in {most} people through the log-in form…")
        # Interleave heads so every level has its share of approvers.
        pool = _log_in_all(site.base, heads[:n_heads] + staff[: most - n_heads])
        approvers, workers = pool[:n_heads], pool[n_heads:]
        yesterday = date.today() - timedelta(days=1)
        confirmed: list[int] = []
        for level in levels:
            k = max(1, level // APPROVER_SHARE)
            users = approvers[:k] + workers[: level - k]
            print(f"  {level} concurrent users ({k} approving)")
            floor, floor_s = _run_phase(site.base, users, "floor", seconds, yesterday)
            month, month_s = _run_phase(site.base, users, "month", seconds, yesterday)
            rush, rush_s = _run_phase(site.base, users, "rush", seconds, yesterday)
            confirmed += rush.punch_ids
            floor_rate = len(floor.samples) / floor_s
            month_rate = len(month.samples) / month_s
            print(
                _line(
                    "trivial view",
                    [ms for _o, ms in floor.samples],
                    floor_s,
                    sum(floor.errors.values()),
                )
            )
            print(
                _line(
                    "month page alone",
                    [ms for _o, ms in month.samples],
                    month_s,
                    sum(month.errors.values()),
                )
            )
            share = month_rate / floor_rate if floor_rate else 0.0
            mark = "ok" if share >= FLOOR_SHARE_TARGET else "MISSED"
            ok &= share >= FLOOR_SHARE_TARGET
            print(
                f"    month page throughput = {share:.2f} × the trivial view's"
                f"   target ≥ 0.33  {mark}"
            )
            all_ms = [ms for _o, ms in rush.samples]
            print(_line("rush, all", all_ms, rush_s, sum(rush.errors.values())))
            for op in EMPLOYEE_OPS + APPROVER_OPS:
                mine = [ms for o, ms in rush.samples if o == op]
                errs = sum(n for key, n in rush.errors.items() if key.startswith(op + ":"))
                if mine or errs:
                    print(_line(op, mine, rush_s, errs))
            errors = floor.errors + month.errors + rush.errors
            details = floor.details | month.details | rush.details
            for key, n in sorted(errors.items()):
                print(f"      {key}: {n}  {details.get(key, '')}")
            ok &= not errors
            if level == 50:
                p95 = _pct(all_ms)[1]
                mark = "ok" if p95 <= P95_TARGET_MS else "MISSED"
                ok &= p95 <= P95_TARGET_MS
                print(f"    p95 at 50 users = {p95:.0f} ms   target ≤ {P95_TARGET_MS} ms  {mark}")
        lost = site.missing_punches(confirmed)
        mark = "ok" if not lost else "MISSED"
        ok &= not lost
        print(
            f"  punches confirmed / lost: {len(confirmed):,} / {len(lost)}   target 0 lost  {mark}"
        )
        print(f"  (site log: {site.dir / 'run.log'})")
    return ok
