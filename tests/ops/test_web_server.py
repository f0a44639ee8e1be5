"""The web server as `scripts/run.sh` starts it keeps an idle keep-alive connection open
longer than the clients in front of it do.

A server that closes an idle connection before its client (a terminal, a browser, a load
balancer with a 60 s idle timeout) races the client's next request on that connection: the
request is reset before any answer (`make bench` (g) saw it with gunicorn's default of 2 s).
The rule is that the server waits longer than every client, so the client always closes
first: 75 s, above the common 60 s of load balancers and reverse proxies.
"""

from __future__ import annotations

import http.client
import signal
import socket
import time

import pytest

from .install import run_sh_commands, stop, wait_until

LONGEST_CLIENT_IDLE = 60  # load balancers' and proxies' usual idle timeout, in seconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _keep_alive(argv: list[str]) -> int:
    assert "--keep-alive" in argv, "run.sh leaves gunicorn's keep-alive at its default (2 s)"
    return int(argv[argv.index("--keep-alive") + 1])


def test_run_sh_keeps_idle_connections_longer_than_load_balancers():
    _worker, web = run_sh_commands()
    assert _keep_alive(web) > LONGEST_CLIENT_IDLE
    assert _keep_alive(run_sh_commands(WEB_KEEPALIVE="90")[1]) == 90


@pytest.fixture
def web_server(installation):
    port = _free_port()
    _worker, web = run_sh_commands(HOST="127.0.0.1", PORT=str(port))
    process = installation.start(web, "web.log")

    def healthy() -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False

    try:
        wait_until(healthy, timeout=60, what="gunicorn to answer /healthz", poll=0.2)
        yield port, process
    finally:
        stop(process, timeout=30)
        installation.kill_leftovers()


def test_an_idle_keep_alive_connection_is_still_open_seconds_later(web_server):
    port, process = web_server
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/healthz")
    first = connection.getresponse()
    first.read()
    assert first.status == 200 and first.getheader("Connection", "").lower() != "close"
    opened = connection.sock
    time.sleep(5)  # idle, as a terminal between two uploads (gunicorn's default: 2 s)
    connection.request("GET", "/healthz")  # raises RemoteDisconnected if the server closed it
    second = connection.getresponse()
    second.read()
    assert second.status == 200
    assert connection.sock is opened  # the same connection, not a new one

    # A long keep-alive does not hold up a stop: with the idle connection still open,
    # SIGTERM (what run.sh sends) ends gunicorn within its --graceful-timeout (10 s).
    started = time.monotonic()
    stop(process, signal.SIGTERM, timeout=30)
    assert time.monotonic() - started < 15
    connection.close()
