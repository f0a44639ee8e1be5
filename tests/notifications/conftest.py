"""A local HTTP server that plays a group robot, and robots pointing at it.

Tests never reach the internet: every webhook address is http://127.0.0.1:<port>/…, so
the fixtures that hand one out switch WEBHOOK_ALLOW_PRIVATE on (the default refuses
addresses on this machine; tests/security/test_webhook_ssrf.py proves it).
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ztk.notifications.models import RobotWebhook

# The corrections' week (a pending request to decide) and the fake work-app platforms.
from ..corrections.conftest import categories, clock, week  # noqa: F401
from .workapp_fakes import platforms  # noqa: F401

OK = (200, {"errcode": 0, "errmsg": "ok"})
FEISHU_OK = (200, {"code": 0, "msg": "success", "data": {}})


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class RobotServer:
    """Answers each POST with the next queued (status, body), or `default` when none is left."""

    default: tuple[int, Any] = OK
    answers: deque = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    port: int = 0

    def answer(self, *answers: tuple[int, Any]) -> None:
        self.answers.extend(answers)

    def url(self, path: str = "/robot/send?access_token=tok123") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(server: RobotServer):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            parts = urlsplit(self.path)
            server.received.append(
                Received(
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers=dict(self.headers.items()),
                    body=json.loads(raw.decode()),
                )
            )
            status, body = server.answers.popleft() if server.answers else server.default
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # keep the test output quiet
            pass

    return Handler


@pytest.fixture
def robot_server(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    server = RobotServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def down_url(settings):
    """An address where nothing listens (connection refused)."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/robot/send?access_token=gone"


def make_robot(url: str, platform: str = "dingtalk", **fields) -> RobotWebhook:
    return RobotWebhook.objects.create(
        name=fields.pop("name", f"{platform} robot"), platform=platform, url=url, **fields
    )
