"""Robots and payroll webhooks never reach inside the network (server-side request forgery).

Real HTTP servers on this machine play the internal targets: each test checks what they
*received*, not only what the sender reported. Addresses the guard must refuse are refused
when the address is saved and again at send time (after the DNS answer has changed), the
connection goes to the address that was checked, redirects are not followed, and
WEBHOOK_ALLOW_PRIVATE=true lets a receiver inside the network through.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from ztk.attendance.models import AttendancePeriod
from ztk.core import webhooks
from ztk.core.errors import DomainError
from ztk.notifications import delivery
from ztk.notifications.models import OutboxMessage, OutboxStatus, RobotWebhook
from ztk.notifications.services import robot_webhook_save, robot_webhook_test
from ztk.reports import payroll
from ztk.reports.models import DeliveryStatus, PayrollDelivery, PayrollWebhook

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


class Target:
    """An HTTP server on 127.0.0.x that records every request and answers as told."""

    def __init__(self, host: str = "127.0.0.1", redirect_to: str = ""):
        self.requests: list[dict] = []
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target.requests.append({"path": self.path, "host": self.headers["Host"]})
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = json.dumps({"errcode": 0, "errmsg": "ok", "ok": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                del body

            do_GET = do_POST  # noqa: N815 - a followed redirect would arrive as GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.host, self.port = host, self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/robot/send?access_token=t", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def target():
    server = Target()
    yield server
    server.close()


@pytest.fixture
def outside(monkeypatch):
    """127.0.0.2 plays an outside receiver: the guard treats it as a public address."""
    real = webhooks.address_problem
    monkeypatch.setattr(
        webhooks,
        "address_problem",
        lambda ip: None if str(ip) == "127.0.0.2" else real(ip),
    )
    server = Target("127.0.0.2")
    yield server
    server.close()


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # AWS / GCP / Azure metadata
        "100.100.100.200",  # Alibaba Cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.10",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "fc00::5",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::ffff:10.1.2.3",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_internal_addresses_are_refused(address):
    assert webhooks.address_problem(address)


@pytest.mark.parametrize("address", [PUBLIC_V4, PUBLIC_V6, "::ffff:" + PUBLIC_V4])
def test_public_addresses_pass(address):
    assert webhooks.address_problem(address) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/robot",
        "https://[::1]/robot",
        "https://[::ffff:127.0.0.1]/robot",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://localhost/robot",
        "https://printer.localhost/robot",
        "https://10.0.0.8:8443/hook",
        "https://2130706433/robot",  # 127.0.0.1 written as a number
        "http://" + PUBLIC_V4 + "/hook",  # plain HTTP to the internet
    ],
)
def test_an_internal_or_plain_http_address_cannot_be_saved(db, url):
    with pytest.raises(ValidationError):
        webhooks.validate_receiver_url(url, not_https_message="https only")


def test_a_name_resolving_inside_is_refused_when_saved(db, monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: [PUBLIC_V4, "10.0.0.5"])
    with pytest.raises(ValidationError) as refused:
        webhooks.validate_receiver_url("https://hooks.corp.example/x", not_https_message="")
    assert "10.0.0.5" in str(refused.value)
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: [PUBLIC_V4])
    webhooks.validate_receiver_url("https://hooks.corp.example/x", not_https_message="")


# --------------------------------------------------------------------------- robots, for real


def save_robot(org, url: str) -> RobotWebhook:
    return robot_webhook_save(actor=org.hr.user, name="内网", platform="dingtalk", url=url)


def test_a_robot_on_this_machine_is_refused_when_saved(org, target):
    with pytest.raises(DomainError) as refused:
        save_robot(org, target.url())
    assert "url" in refused.value.details
    assert not RobotWebhook.objects.exists()


def test_a_robot_on_this_machine_gets_nothing_at_send_time(org, target, settings):
    # saved while internal receivers were allowed (or before this rule existed)
    settings.WEBHOOK_ALLOW_PRIVATE = True
    robot = save_robot(org, target.url())
    settings.WEBHOOK_ALLOW_PRIVATE = False

    message = robot_webhook_test(actor=org.hr.user, robot_id=robot.pk)
    delivery.deliver_pending(ids=[message.pk])

    assert target.requests == []
    message = OutboxMessage.objects.get(pk=message.pk)
    assert message.status == OutboxStatus.DEAD
    assert "address refused: 127.0.0.1 is a loopback address" in message.last_error


def test_the_allow_switch_lets_an_internal_robot_through(org, target, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    robot = save_robot(org, target.url())

    message = robot_webhook_test(actor=org.hr.user, robot_id=robot.pk)
    delivery.deliver_pending(ids=[message.pk])

    assert len(target.requests) == 1
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT


def test_dns_rebinding_is_caught_at_send_time(org, target, monkeypatch):
    # when saved, the name resolved to a public address …
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: [PUBLIC_V4])
    robot = robot_webhook_save(
        actor=org.hr.user,
        name="外部",
        platform="dingtalk",
        url=f"https://robot.rebind.test:{target.port}/robot/send?access_token=t",
    )
    # … by the time of sending it answers with this machine
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["127.0.0.1"])

    message = robot_webhook_test(actor=org.hr.user, robot_id=robot.pk)
    delivery.deliver_pending(ids=[message.pk])

    assert target.requests == []
    assert "address refused" in OutboxMessage.objects.get(pk=message.pk).last_error


def test_a_mixed_answer_is_refused(org, target, monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: [PUBLIC_V4, "127.0.0.1"])
    with pytest.raises(webhooks.UnsafeAddress):
        webhooks.post(f"http://mixed.test:{target.port}/x", b"{}", {})
    assert target.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(db, outside, monkeypatch):
    """The name exists nowhere but in our resolver's answer: only a connection to the
    checked address can reach the server, and the Host header keeps the name."""
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["127.0.0.2"])

    status, _answer = webhooks.post(outside.url(host="receiver.rebind.test"), b"{}", {})

    assert status == 200
    assert outside.requests == [
        {"path": "/robot/send?access_token=t", "host": f"receiver.rebind.test:{outside.port}"}
    ]


def test_a_redirect_to_this_machine_is_not_followed(db, outside, target, monkeypatch):
    redirector = Target("127.0.0.2", redirect_to=target.url("/latest/meta-data/"))
    try:
        with pytest.raises(webhooks.DeliveryError) as failed:
            webhooks.post(redirector.url(), b"{}", {})
    finally:
        redirector.close()
    assert "redirects are not followed" in str(failed.value)
    assert len(redirector.requests) == 1
    assert target.requests == []


# --------------------------------------------------------------------------- payroll, for real


@pytest.fixture
def period(org):
    return AttendancePeriod.objects.create(
        group=org.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status="closed"
    )


def queue_payroll(url: str, period) -> PayrollDelivery:
    hook = PayrollWebhook.objects.create(name="薪资", url=url)  # as stored before the rule
    return PayrollDelivery.objects.create(
        webhook=hook, period=period, event="period.closed", body="{}"
    )


def test_a_payroll_webhook_on_this_machine_gets_nothing(org, target, period):
    row = queue_payroll(target.url("/payroll"), period)

    payroll.deliver_payroll_pending(ids=[row.pk])

    assert target.requests == []
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DEAD
    assert "address refused" in row.last_error


def test_a_payroll_webhook_to_the_metadata_service_is_refused_before_connecting(org, period):
    row = queue_payroll("http://169.254.169.254/latest/meta-data/iam/", period)
    payroll.deliver_payroll_pending(ids=[row.pk])
    row.refresh_from_db()
    assert "169.254.169.254 is a cloud metadata service" in row.last_error


def test_the_allow_switch_lets_an_internal_payroll_receiver_through(org, target, period, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    row = queue_payroll(target.url("/payroll"), period)

    payroll.deliver_payroll_pending(ids=[row.pk])

    assert [r["path"] for r in target.requests] == ["/payroll"]
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT


def test_every_outbound_http_call_goes_through_the_guarded_sender():
    """Only ztk/core/webhooks.py opens HTTP connections to configured addresses (and the
    terminal simulator, to this server)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "ztk"
    # an HTTP client module imported (not a module that happens to be named `requests`,
    # like the correction pages: `from ..views import requests`), or urlopen called
    client = re.compile(
        r"^\s*(import|from)\s+(requests|httpx|http\.client|urllib\.request|urllib3)\b"
        r"|^\s*from\s+urllib\s+import\s+.*\brequest\b|\burlopen\(",
        re.MULTILINE,
    )
    senders = {
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if client.search(path.read_text(encoding="utf-8"))
    }
    # The terminal simulator (`ztk simulate-terminal`) plays a terminal talking to this
    # server, at the address its operator types: a client of ours, not a sender to an
    # address configured in the product.
    assert senders == {"core/webhooks.py", "devices/simulator.py", "devices/simulator3.py"}


def test_ipaddress_forms_of_the_rule_are_consistent():
    """Every IPv4 refused is refused in its IPv4-mapped IPv6 form too."""
    for text in ("127.0.0.1", "10.9.8.7", "169.254.169.254", "192.168.0.1", "0.0.0.0"):
        mapped = ipaddress.IPv6Address("::ffff:" + text)
        assert webhooks.address_problem(mapped), text
