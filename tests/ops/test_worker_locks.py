"""A stopped or killed background worker never leaves the recompute queue stuck.

Issue 10 item 1: the drain's lock was built inside the function, so `run_huey
--flush-locks` did not know it; after a kill -9 (or a stop while a drain ran past the
grace period) every drain ended at once and the days stayed stale. These tests run the
worker as `scripts/run.sh` does, in its own process, on an installation of their own.
"""

from __future__ import annotations

import ast
import signal
import time

import pytest

from .install import ROOT, run_sh_commands, stop, wait_until

DRAIN = "attendance-drain"
CHUNK = "40"  # days per drain transaction: a drain of ~1,300 days takes 30 or more


def test_no_task_uses_huey_locks_every_lock_is_a_lease():
    """Huey's lock_task keys live in the queue's storage and never expire; clearing them at
    start (--flush-locks) cleared the locks of every other consumer too. Tasks take leases
    (ztk/core/leases.py) instead: a killed holder's lease expires, a stopping consumer
    releases only its own."""
    found = []
    for path in sorted((ROOT / "ztk").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ("lock_task", "flush_locks"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, f"use ztk.core.leases (leased / Lease) instead of Huey's locks: {found}"


@pytest.fixture(autouse=True)
def _fresh_queue(installation):
    installation.reset_queue()
    yield
    installation.kill_leftovers()


LEASE = "4"  # seconds: a killed worker's drain lease expires this soon (run.sh: 120)


def _worker(installation, log: str, **env: str):
    worker, _web = run_sh_commands()
    return installation.start(
        worker, log, RECOMPUTE_DRAIN_CHUNK=CHUNK, ZTK_TASK_LEASE_SECONDS=LEASE, **env
    )


def _mid_drain(installation, queued: int) -> None:
    """Until the worker holds the drain lock and has written at least one chunk."""
    wait_until(
        lambda: 0 < installation.pending() < queued and installation.lock_held(DRAIN),
        timeout=60,
        what="the worker to be part-way through the drain",
    )


def test_a_worker_killed_mid_drain_is_replaced_by_one_that_empties_the_queue(installation):
    before = installation.queue_punches("OPS-KILL", compare=True)
    queued = before["pending"]
    assert queued > 1000 and before["differ"] >= queued  # the stored days are stale

    worker = _worker(installation, "kill-1.log")
    _mid_drain(installation, queued)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert installation.pending() > 0
    # a killed holder releases nothing: its lease expires by itself (LEASE seconds)
    wait_until(
        lambda: not installation.lock_held(DRAIN), timeout=30, what="the dead worker's lease"
    )

    # The same command, as after `make run`: its periodic drain runs as it starts and takes
    # the queue over. (Started before the lease expired, it would find the lease held and
    # take over at the next minute's drain instead: the same outcome, up to a minute later.)
    worker = _worker(installation, "kill-2.log")
    try:
        wait_until(lambda: installation.pending() == 0, timeout=150, what="an empty queue")
    finally:
        stop(worker)
    assert "drain begin" in installation.log("kill-2.log")  # the new worker took it over
    after = installation.compare()
    assert (after["pending"], after["rows"], after["differ"]) == (0, before["rows"], 0), after


def test_a_graceful_stop_mid_drain_ends_after_the_chunk_and_holds_no_lock(installation):
    queued = installation.queue_punches("OPS-STOP")["pending"]
    worker = _worker(installation, "stop-1.log")
    _mid_drain(installation, queued)
    began = time.monotonic()
    assert stop(worker, signal.SIGINT) == 0  # what Ctrl-C on `make run` sends
    took = time.monotonic() - began
    assert took < 10, f"the stop took {took:.1f} s, longer than run.sh's grace"
    log = installation.log("stop-1.log")
    assert "All workers have stopped" in log and "released at stop" not in log  # not abandoned
    assert not installation.lock_held(DRAIN)
    assert installation.pending() > 0  # the rest waits for the next start (test above)


def test_a_chunk_outlasting_the_grace_period_is_abandoned_with_its_lock_released(installation):
    """`make run` stopped while a drain runs past the 10 s grace: the chunk in hand is
    abandoned (rolled back with the process) and the lock released on the way out. Here
    the database is locked against writes, so the chunk cannot end; the grace is 2 s
    instead of run.sh's 10 to keep the test short."""
    queued = installation.queue_punches("OPS-GRACE")["pending"]
    worker_argv, _web = run_sh_commands()
    grace = worker_argv.index("--shutdown-timeout") + 1
    worker_argv[grace] = "2"
    worker = installation.start(
        worker_argv, "grace-1.log", RECOMPUTE_DRAIN_CHUNK=CHUNK, ZTK_TASK_LEASE_SECONDS=LEASE
    )
    _mid_drain(installation, queued)
    with installation.write_lock():
        left = installation.pending()
        began = time.monotonic()
        stop(worker, signal.SIGINT)
        assert time.monotonic() - began >= 2  # it did wait for the chunk, in vain
        if installation.postgres:
            # Only the days are locked: the lease is released on the way out.
            assert not installation.lock_held(DRAIN)
            assert "released at stop: attendance-drain" in installation.log("grace-1.log")
        # On SQLite the whole file is locked, so the lease cannot be released either: it
        # expires within LEASE seconds and the next worker takes over (below).
        assert installation.pending() == left  # the abandoned chunk wrote nothing

    worker = _worker(installation, "grace-2.log")
    try:
        wait_until(lambda: installation.pending() == 0, timeout=150, what="an empty queue")
    finally:
        stop(worker)
