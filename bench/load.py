"""(g) Load: the site as `make run` serves it, under concurrent clients.

`scripts/run.sh` itself starts gunicorn and the worker (same arguments, a free port, its
own ZTK_VAR_DIR with the demo company); N client threads then run for a fixed time, each
with its own logged-in browser session and the HR integration's API key, over:

- the month page (我的考勤, `GET /?month=…`, rendered for the session's own employee),
- the day API (`GET /api/v1/attendance/days?employee=…&from=D&to=D`),
- the punch API (`POST /api/v1/punches` with an employee and a time: stored, audited and
  its day recomputed inside the request).

Every request's latency and outcome is kept; an error is any answer but the expected
status, or no answer. At the end every punch a client was told was recorded (201 with an
id) is looked up in the database: a missing or different one is a lost punch.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
LOAD_DIR = ROOT / "var" / "bench-load"
# Weights of the three operations in each client's loop.
MIX = (("month page", 4), ("day API", 4), ("punch API", 2))
LOGINS = ("employee", "manager", "hr")


@dataclass
class Client:
    """What one client thread saw."""

    samples: list[tuple[str, float]] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    punches: list[tuple[int | None, str, datetime]] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    retried: int = 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ztk(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ztk"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


class Site:
    """`scripts/run.sh` on a fresh installation in var/bench-load, stopped with Ctrl-C."""

    def __init__(self) -> None:
        if LOAD_DIR.exists():
            shutil.rmtree(LOAD_DIR)
        LOAD_DIR.mkdir(parents=True)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "HUEY_IMMEDIATE", "ZTK_TESTING")
        }
        self.env.update(ZTK_VAR_DIR=str(LOAD_DIR), PORT=str(self.port), HOST="127.0.0.1")
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def __enter__(self) -> Site:
        self._log = open(LOAD_DIR / "run.log", "ab")  # noqa: SIM115
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
                raise RuntimeError(f"scripts/run.sh exited; see {LOAD_DIR / 'run.log'}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the site did not answer within 300 s")
            time.sleep(0.2)
        self.passwords = {}
        for line in (LOAD_DIR / "demo-credentials.txt").read_text().splitlines():
            if line and not line.startswith("#"):
                login, password, *_ = line.split("\t")
                self.passwords[login] = password
        key = re.search(
            r"ztk_\S+", _ztk(self.env, "create-api-key", "--user", "hr", "--name", "load")
        )
        assert key, "create-api-key printed no key"
        self.api_key = key[0]
        return self

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGINT)  # Ctrl-C, as an operator stops `make run`
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()

    def employees(self) -> list[str]:
        with sqlite3.connect(f"file:{LOAD_DIR / 'ztk.sqlite3'}?mode=ro", uri=True) as db:
            return [
                row[0]
                for row in db.execute(
                    "SELECT employee_no FROM org_employee WHERE active ORDER BY employee_no"
                )
            ]

    def stored_punches(self) -> dict[tuple[str, datetime], int]:
        """(employee number, instant) → id of every punch the API stored (source import)."""
        found = {}
        with sqlite3.connect(f"file:{LOAD_DIR / 'ztk.sqlite3'}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT p.id, e.employee_no, p.at FROM punches_punch p JOIN org_employee e "
                "ON e.id = p.employee_id WHERE p.source = 'import'"
            )
            for pk, number, at in rows:
                moment = datetime.fromisoformat(at)
                found[(number, moment if moment.tzinfo else moment.replace(tzinfo=UTC))] = pk
        return found


def _login(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=30).raise_for_status()
    answer = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"log-in of {username} failed ({answer.status_code})")
    return session


def _client(
    index: int,
    site: Site,
    employees: list[str],
    deadline: list[float],
    out: Client,
    start: threading.Barrier,
) -> None:
    """One client: log in, wait for the others, then loop over the mix until the deadline
    (set once every client is ready)."""
    rng = random.Random(index)
    login = LOGINS[index % len(LOGINS)]
    try:
        session = _login(site.base, login, site.passwords[login])
    except Exception:
        start.abort()  # the run cannot be fair without every client: stop it
        raise
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {site.api_key}"
    today = datetime.now(UTC).date()
    months = [
        f"{d.year:04d}-{d.month:02d}" for d in (today, today.replace(day=1) - timedelta(days=1))
    ]
    # Distinct instants for every client and punch: 09:00 UTC two days ago, plus seconds.
    clients = start.parties - 1
    base_at = datetime.combine(today - timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    counter = 0
    names = [name for name, weight in MIX for _ in range(weight)]

    def send(http: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
        """Like a browser: a request whose reused keep-alive connection the server closed
        just as it was sent (reset, no answer) is sent once more. Safe for the punch too:
        the same employee and instant is recorded once and answered "duplicate"."""
        try:
            return http.request(method, url, timeout=60, **kwargs)
        except requests.ConnectionError as exc:
            if "Connection aborted" not in str(exc):
                raise
            out.retried += 1
            return http.request(method, url, timeout=60, **kwargs)

    start.wait(timeout=300)
    while time.monotonic() < deadline[0]:
        op = rng.choice(names)
        began = time.perf_counter()
        try:
            if op == "month page":
                answer = send(session, "GET", f"{site.base}/", params={"month": rng.choice(months)})
                ok = answer.status_code == 200 and b"<html" in answer.content[:500].lower()
            elif op == "day API":
                day = (today - timedelta(days=rng.randint(1, 30))).isoformat()
                answer = send(
                    api,
                    "GET",
                    f"{site.base}/api/v1/attendance/days",
                    params={"employee": rng.choice(employees), "from": day, "to": day},
                )
                ok = answer.status_code == 200 and isinstance(answer.json(), list)
            else:
                employee = employees[(index + counter) % len(employees)]
                at = base_at + timedelta(hours=9, seconds=counter * clients + index)
                counter += 1
                answer = send(
                    api,
                    "POST",
                    f"{site.base}/api/v1/punches",
                    json={"employee": employee, "at": at.isoformat()},
                )
                # 201: recorded; 200 "duplicate" only after a resend (the first one landed).
                ok = answer.status_code in (200, 201)
                if ok:
                    punch = answer.json()["punch"]
                    out.punches.append((punch["id"] if punch else None, employee, at))
        except requests.RequestException as exc:
            out.errors[f"{op}: {type(exc).__name__}"] += 1
            out.details.setdefault(f"{op}: {type(exc).__name__}", repr(exc)[:300])
            continue
        out.samples.append((op, (time.perf_counter() - began) * 1000))
        if not ok:
            out.errors[f"{op}: HTTP {answer.status_code}"] += 1


def _percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "—"
    q = statistics.quantiles(values, n=100)
    return f"{statistics.median(values):.0f} / {q[94]:.0f} / {q[98]:.0f} ms"


def run(*, seconds: float = 60, clients: int = 20) -> bool:
    """Returns True when the targets (0 errors, 0 lost punches) are met."""
    print(f"\n(g) load: {clients} clients for {seconds:.0f} s against scripts/run.sh")
    print("  starting the site (migrate, demo company, collectstatic, gunicorn + worker)…")
    with Site() as site:
        employees = site.employees()
        results = [Client() for _ in range(clients)]
        start = threading.Barrier(clients + 1)
        deadline = [time.monotonic() + 3600]
        threads = [
            threading.Thread(
                target=_client,
                args=(i, site, employees, deadline, results[i], start),
                daemon=True,
            )
            for i in range(clients)
        ]
        # The clients log in first; the clock starts when all of them are ready.
        for thread in threads:
            thread.start()
        start.wait(timeout=300)
        began = time.monotonic()
        deadline[0] = began + seconds
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        punched = [p for r in results for p in r.punches]
        stored = site.stored_punches()
    # Lost: a punch the API confirmed that is not stored (or not under the id it was given).
    lost = [
        (pk, e, at)
        for pk, e, at in punched
        if (e, at) not in stored or pk not in (None, stored[(e, at)])
    ]
    samples = [s for r in results for s in r.samples]
    errors = sum((r.errors for r in results), Counter())
    total = len(samples) + sum(
        n for key, n in errors.items() if not key.split(": ", 1)[1].startswith("HTTP")
    )
    print(f"  {'requests':<46} {total:>16,}")
    print(f"  {'requests/s':<46} {total / elapsed:>16,.1f}")
    print(f"  {'latency p50 / p95 / p99, all':<46} {_percentiles([ms for _o, ms in samples]):>16}")
    for name, _weight in MIX:
        mine = [ms for op, ms in samples if op == name]
        label = f"  {name} ({len(mine):,} requests)"
        print(f"  {label:<46} {_percentiles(mine):>16}")
    mark = "ok" if not errors else "MISSED"
    print(f"  {'errors':<46} {sum(errors.values()):>16}   target 0  {mark}")
    details = {k: v for r in results for k, v in r.details.items()}
    for key, n in sorted(errors.items()):
        print(f"    {key}: {n}  {details.get(key, '')}")
    retried = sum(r.retried for r in results)
    print(f"  {'resent after a keep-alive reset (not errors)':<46} {retried:>16}")
    mark = "ok" if not lost else "MISSED"
    print(
        f"  {'punches confirmed / lost':<46} {len(punched):>9,} / {len(lost):<5}"
        f"   target 0 lost  {mark}"
    )
    print(f"  (site log: {LOAD_DIR / 'run.log'})")
    return not errors and not lost


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
