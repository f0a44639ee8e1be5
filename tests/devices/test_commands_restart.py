"""Commands survive a killed server: the state is only in the database.

A real server process (`ztk runserver`) on the test database hands a command out, is
killed (SIGKILL) before the terminal answers, and a fresh process re-sends it after the
timeout; the answer is recorded once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from ztk.devices.models import CommandStatus, DeviceCommand

from .conftest import make_device
from .terminal import Terminal

pytestmark = pytest.mark.django_db(transaction=True)

ZTK = Path(sys.executable).parent / "ztk"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str | None:
    """The test database as a URL a second process can open, or None (in-memory SQLite)."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user, host, port = settings["USER"], settings["HOST"] or "127.0.0.1", settings["PORT"]
        password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        return f"postgres://{user}{password}@{host}:{port or 5432}/{settings['NAME']}"
    name = str(settings["NAME"])
    if connection.vendor == "sqlite" and "memory" not in name and name:
        return f"sqlite:///{Path(name).resolve()}"
    return None


def _serve(database_url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ZTK_DEVICE_COMMAND_TIMEOUT": "1",
        "ZTK_DEVICE_COMMAND_ATTEMPTS": "3",
    }
    process = subprocess.Popen(
        [str(ZTK), "runserver", "--noreload", "--nothreading", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("the server did not start")


def test_a_command_sent_before_a_crash_is_resent_by_a_fresh_process_and_answered_once(org):
    db_path = _database_url()
    if db_path is None:
        pytest.skip("in-memory SQLite: run with DATABASE_URL=postgres://… to share the database")
    device = make_device(group=org.group)
    command = DeviceCommand.objects.create(device=device, command="INFO")

    port = _free_port()
    first = _serve(db_path, port)
    try:
        body = Terminal(f"http://127.0.0.1:{port}").poll()[1]
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the server dies before the answer arrives
        first.wait(timeout=10)
    assert body == f"C:{command.pk}:INFO\n"
    command.refresh_from_db()
    assert (command.status, command.attempts) == (CommandStatus.SENT, 1)

    time.sleep(1.5)  # longer than the timeout of 1 s
    port = _free_port()
    second = _serve(db_path, port)
    try:
        terminal = Terminal(f"http://127.0.0.1:{port}")
        assert terminal.poll()[1] == f"C:{command.pk}:INFO\n"  # re-sent by the new process
        terminal.command_results(f"ID={command.pk}&Return=0&CMD=INFO\n".encode())
        terminal.command_results(f"ID={command.pk}&Return=-1&CMD=INFO\n".encode())
        time.sleep(1.5)
        assert terminal.poll()[1] == "OK"
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.wait(timeout=10)
    command.refresh_from_db()
    assert (command.status, command.attempts, command.return_code) == (CommandStatus.DONE, 2, 0)
