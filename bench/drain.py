"""The background worker as `make run` starts it, for the benchmarks of large batches.

Batches above RECOMPUTE_DEFER_ABOVE queue their days; the real Huey consumer
(`ztk run_huey`, one worker thread, no periodic tasks) drains the queue in its own
process, as in production. A benchmark counts until the queue is empty again, so the
recompute is included in its figure.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path


class BackgroundDrain:
    """``with BackgroundDrain(log_dir) as drain: …; drain.wait()`` — the seconds until the
    queue is empty are in ``drain.drained_at`` (perf_counter), the worker's CPU seconds in
    ``drain.cpu`` once the block ends."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.drained_at = 0.0
        self.cpu = 0.0

    def __enter__(self) -> BackgroundDrain:
        from huey.contrib.djhuey import HUEY

        self._huey = HUEY
        HUEY.immediate = False  # this process queues tasks for the worker
        env = dict(os.environ, HUEY_IMMEDIATE="0")
        ztk = Path(sys.executable).with_name("ztk")
        self._log = open(self.log_dir / "drain-worker.log", "ab")  # noqa: SIM115
        self._before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._process = subprocess.Popen(
            [
                str(ztk),
                "run_huey",
                "--flush-locks",
                "--workers",
                "1",
                "--no-periodic",
                "--delay",
                "0.05",
                "--max-delay",
                "0.2",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        time.sleep(3)  # Django set-up in the worker, before anything is timed
        if self._process.poll() is not None:
            raise RuntimeError(f"the drain worker exited; see {self.log_dir}/drain-worker.log")
        return self

    def wait(self, timeout: float = 1800) -> float:
        """Until no queued day is left; returns perf_counter at that moment."""
        from ztk.attendance.models import PendingRecompute

        deadline = time.perf_counter() + timeout
        while PendingRecompute.objects.exists():
            if self._process.poll() is not None:
                raise RuntimeError("the drain worker exited with days still queued")
            if time.perf_counter() > deadline:
                raise RuntimeError("the queue was not drained in time")
            time.sleep(0.05)
        self.drained_at = time.perf_counter()
        return self.drained_at

    def __exit__(self, *exc) -> None:
        self._process.send_signal(signal.SIGINT)  # graceful: a running task ends first
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (after.ru_utime - self._before.ru_utime) + (
            after.ru_stime - self._before.ru_stime
        )
        self._log.close()
        self._huey.immediate = True
