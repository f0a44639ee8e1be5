"""Several nodes on one machine: two web servers and two background workers, started with
the command lines of `scripts/run.sh`, on one PostgreSQL database, one Redis and one shared
var/ folder (media, secret key) — issue 16 item 3.

Submissions, approvals and terminal uploads are spread over both web nodes; the drain tasks
they queue are taken by both workers. Then: nothing lost or doubled, never two drains at
once (their begin/end lines in the two workers' logs never overlap), a session and a cache
entry made on one node are seen on the other, and when the worker holding the drain is
killed, the other one takes the queue over once the lease expires.

Runs when the suite runs on PostgreSQL and a Redis answers (as `make test` does here).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
from datetime import date, datetime, timedelta

import pytest
import requests

from .install import run_sh_commands, stop, wait_until

PASSWORD = "several-Nodes-2026"
LEASE = "4"  # seconds (run.sh: 120): how soon a killed worker's drain lease expires
SERIAL = "DEMO-ZK-01"  # the demo's approved terminal

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="several nodes share one PostgreSQL database (the suite's PostgreSQL pass)",
)


def _redis_url(worker_id: str) -> str:
    redis = pytest.importorskip("redis")
    number = 8 + (int(worker_id[2:]) if worker_id.startswith("gw") else 0) % 8
    url = f"redis://127.0.0.1:6379/{number}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis answered at 127.0.0.1:6379")
    client.flushdb()
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _web_argv(port: int) -> list[str]:
    _worker, web = run_sh_commands()
    web[web.index("--bind") + 1] = f"127.0.0.1:{port}"
    return web


def _log_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=30).raise_for_status()
    answer = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302 and "sessionid" in session.cookies, answer.status_code
    return session


def _post(session: requests.Session, url: str, body: dict) -> requests.Response:
    base = url.split("/api/")[0]
    return session.post(
        url,
        json=body,
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{base}/"},
        timeout=60,
    )


def _drains(log: str) -> list[tuple[float, float, str]]:
    """(begin, end, owner) of every drain a worker's log shows finished."""
    begun = {m[2]: float(m[1]) for m in re.finditer(r"drain begin (\S+) (\S+)", log)}
    out = []
    for m in re.finditer(r"drain end (\S+) (\S+) \d+", log):
        if m[2] in begun:
            out.append((begun[m[2]], float(m[1]), m[2]))
    return out


@pytest.fixture(scope="module")
def nodes(installation, worker_id):
    installation.env["REDIS_URL"] = _redis_url(worker_id)
    installation.env["ZTK_TASK_LEASE_SECONDS"] = LEASE
    installation.env["RECOMPUTE_DRAIN_CHUNK"] = "40"
    installation.env["RECOMPUTE_DEFER_ABOVE"] = "5"  # every upload's days go to the drain
    setup = json.loads(installation.scenario("several-nodes-setup", PASSWORD))
    installation.ztk("collectstatic", "--noinput", "-v0")  # as run.sh does before serving
    ports = [_free_port(), _free_port()]
    webs = [installation.start(_web_argv(p), f"web-{i}.log") for i, p in enumerate(ports)]
    worker_argv, _web = run_sh_commands()
    workers = [installation.start(worker_argv, f"worker-{i}.log") for i in range(2)]
    bases = [f"http://127.0.0.1:{p}" for p in ports]

    def up(base: str) -> bool:
        try:
            return requests.get(f"{base}/healthz/live", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(lambda: all(up(b) for b in bases), timeout=120, what="both web nodes")
    yield {"bases": bases, "webs": webs, "workers": workers, **setup}
    for process in webs + workers:
        stop(process, signal.SIGTERM if process in webs else signal.SIGINT)


def test_sessions_and_cache_are_shared_between_the_nodes(nodes, installation):
    a, b = nodes["bases"]
    company = installation.sql("SELECT name FROM org_company")[0][0]
    assert requests.get(f"{a}/healthz/live", timeout=30).json()["company"] == company
    # Renamed behind the cache's back: node B answers what node A cached (one shared cache).
    installation.sql_write("UPDATE org_company SET name = %s", ("改名后的公司",))
    assert requests.get(f"{b}/healthz/live", timeout=30).json()["company"] == company

    session = _log_in(a, "multinode")
    page = session.get(f"{b}/", allow_redirects=False, timeout=30)
    assert page.status_code == 200  # signed in on A, recognised on B
    me = session.get(f"{b}/api/v1/me", timeout=30).json()
    assert me["employee_no"] == nodes["employee"]


def test_work_spread_over_both_nodes_is_neither_lost_nor_doubled(nodes, installation):
    a, b = nodes["bases"]
    bases = [a, b]

    # --- corrections: filed on one node, approved on the other --------------------------
    employee = _log_in(a, "multinode")
    # The demo's chain: the supervisor, then HR — each on the node the other did not use.
    approvers = [_log_in(b, "manager"), _log_in(a, "hr")]
    first, last = min(nodes["days"]), max(nodes["days"])
    checks = employee.get(
        f"{b}/api/v1/corrections/slot-checks", params={"from": first, "to": last}, timeout=60
    ).json()["items"]
    open_slots = [c for c in checks if c["slot"] == "out1" and c["correctable"]]
    assert open_slots, checks
    filed = []
    for i, slot in enumerate(open_slots):
        day = slot["date"]
        answer = _post(
            employee,
            f"{bases[i % 2]}/api/v1/corrections",
            {
                "items": [
                    {
                        "date": day,
                        "slot": "out1",
                        "requested_time": f"{day}T18:05:00",
                        "category": "forgot",
                        "reason": "下班忘记打卡，补卡",
                    }
                ]
            },
        )
        assert answer.status_code == 201, answer.text
        filed += [r["id"] for r in answer.json()]
    for i, pk in enumerate(filed):
        for step, approver in enumerate(approvers):
            base = bases[(i + step + 1) % 2]
            answer = _post(approver, f"{base}/api/v1/corrections/{pk}/approve", {})
            assert answer.status_code == 200, answer.text
            if answer.json()["status"] == "approved":
                break
        again = _post(approver, f"{bases[i % 2]}/api/v1/corrections/{pk}/approve", {})
        assert 400 <= again.status_code < 500, again.text  # decided once, whichever node

    # --- terminal uploads, each sent to both nodes (a terminal re-sending) --------------
    numbers = [
        n
        for (n,) in installation.sql(
            "SELECT e.employee_no FROM org_employee e JOIN org_attendancegroup g"
            " ON g.id = e.attendance_group_id WHERE e.active AND g.code = 'STD'"
        )
    ]
    start = date.today() - timedelta(days=12)
    lines_sent = set()
    for k in range(24):
        day = start + timedelta(days=k % 8)
        body = "".join(
            f"{n}\t{day} 23:{k:02d}:{i % 60:02d}\t0\t1\t0\t0\t0\n" for i, n in enumerate(numbers)
        )
        lines_sent |= {(n, f"{day} 23:{k:02d}:{i % 60:02d}") for i, n in enumerate(numbers)}
        for base in (bases[k % 2], bases[(k + 1) % 2]):
            answer = requests.post(
                f"{base}/iclock/cdata",
                params={"SN": SERIAL, "table": "ATTLOG", "Stamp": str(k)},
                data=body.encode(),
                headers={"Content-Type": "text/plain"},
                timeout=60,
            )
            assert answer.status_code == 200, answer.text

    wait_until(lambda: installation.pending() == 0, timeout=180, what="an empty queue")
    stored = installation.sql(
        "SELECT e.employee_no, to_char(p.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')"
        " FROM punches_punch p JOIN org_employee e ON e.id = p.employee_id"
        " WHERE p.device_sn = %s AND EXTRACT(HOUR FROM p.at AT TIME ZONE 'Asia/Shanghai') = 23",
        (SERIAL,),
    )
    assert len(stored) == len(set(stored))  # none twice
    assert set(stored) == lines_sent  # none lost

    approved = installation.sql(
        "SELECT status, COUNT(*) FROM corrections_correctionrequest WHERE id = ANY(%s)"
        " GROUP BY status",
        (filed,),
    )
    assert approved == [("approved", len(filed))]
    made = installation.sql(
        "SELECT COUNT(*) FROM punches_punch WHERE correction_id = ANY(%s)", (filed,)
    )[0][0]
    assert made == len(filed)  # one punch per approved request, not two

    logs = [installation.log(f"worker-{i}.log") for i in range(2)]
    for i, log in enumerate(logs):
        assert "Executing ztk." in log, f"worker {i} did no work:\n{log[-2000:]}"
    drains = sorted(d for log in logs for d in _drains(log))
    assert drains
    for (_b1, end1, o1), (begin2, _e2, o2) in zip(drains, drains[1:], strict=False):
        assert begin2 >= end1, f"two drains at once: {o1} until {end1}, {o2} from {begin2}"
    after = installation.compare()
    (installation.logs / "compare.json").write_text(json.dumps(after, ensure_ascii=False))
    assert after["pending"] == 0 and after["differ"] == 0, after


def test_a_killed_worker_s_drain_is_taken_over_by_the_other(nodes, installation):
    queued = installation.queue_punches("OPS-NODES")["pending"]
    assert queued > 1000

    def holder_pid() -> int | None:
        rows = installation.sql(
            "SELECT owner FROM core_lease WHERE name = 'attendance-drain' AND expires_at > now()"
        )
        return int(rows[0][0].split(":")[1]) if rows else None

    pid = wait_until(holder_pid, timeout=60, what="a worker to hold the drain")
    victim = next(w for w in nodes["workers"] if w.pid == pid)
    survivor = next(w for w in nodes["workers"] if w.pid != pid)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    left = installation.pending()
    assert left > 0
    killed_at = datetime.now().timestamp()
    # The next drain task (any new upload queues one; the minute's periodic run too).
    wait_until(lambda: holder_pid() in (None, survivor.pid), timeout=30, what="lease expiry")
    requests.post(
        f"{nodes['bases'][0]}/iclock/cdata",
        params={"SN": SERIAL, "table": "ATTLOG", "Stamp": "99"},
        data=f"1002\t{date.today() - timedelta(days=3)} 21:00:00\t0\t1\t0\t0\t0\n".encode(),
        headers={"Content-Type": "text/plain"},
        timeout=60,
    )
    wait_until(lambda: installation.pending() == 0, timeout=120, what="the survivor's drain")
    index = nodes["workers"].index(survivor)
    # A drain of the survivor's that ended after the kill. (Under load a chunk can outlast
    # the short test lease, so the survivor may already have taken a turn before the kill:
    # what matters is that it, not the dead one, finished the queue.)
    taken = [d for d in _drains(installation.log(f"worker-{index}.log")) if d[1] > killed_at]
    assert taken, "the surviving worker never drained after the kill"
    after = installation.compare()
    assert after["differ"] == 0, after
