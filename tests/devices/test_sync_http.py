"""People and templates reach the terminals, over real HTTP with the terminal simulator.

HR adds an employee through the sync API → both terminals of the group receive USERINFO;
a fingerprint enrolled on terminal A reaches terminal B; deactivation → both receive
DELETE; the stored template is ciphertext in the raw table.
"""

from __future__ import annotations

import base64
import http.client
import json
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connection

from ztk.accounts.services import api_key_create
from ztk.audit.models import AuditEvent
from ztk.devices.models import BiometricTemplate, CommandStatus, DeviceCommand
from ztk.devices.simulator import PushTerminal, enrolment_template

from .conftest import make_device

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.terminal_sync]


def api_put(base_url: str, path: str, key: str, payload: dict) -> int:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        "PUT",
        path,
        body=json.dumps(payload),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.fixture
def terminals(live_server, org):
    make_device("SIMA000001", group=org.group)
    make_device("SIMB000002", group=org.group)
    a = PushTerminal(live_server.url, "SIMA000001")
    b = PushTerminal(live_server.url, "SIMB000002")
    for terminal in (a, b):
        terminal.handshake()
        terminal.poll_until_quiet()  # the group's current people, sent on approval
    return a, b


def test_hr_adds_enrols_and_deactivates_an_employee(live_server, org, terminals):
    a, b = terminals
    assert "1002" in a.users and a.users["1002"]["Name"] == "张三"
    _api_key, hr_key = api_key_create(actor=None, user=org.hr.user, name="sync")

    # HR adds an employee (sync API) → both terminals receive USERINFO on their next poll
    status = api_put(
        live_server.url,
        "/api/v1/employees/3001",
        hr_key,
        {"name": "孙新人", "attendance_group": org.group.code},
    )
    assert status == 201
    for terminal in (a, b):
        got = terminal.poll_until_quiet()
        assert [r.command for r in got] == [
            "DATA UPDATE USERINFO PIN=3001\tName=孙新人\tPri=0\tCard="
        ]
        assert terminal.users["3001"]["Name"] == "孙新人"
    # an unrelated save (same data again) sends nothing
    assert (
        api_put(
            live_server.url,
            "/api/v1/employees/3001",
            hr_key,
            {"name": "孙新人", "attendance_group": org.group.code},
        )
        == 200
    )
    assert a.poll() == [] and b.poll() == []

    # enrolled on A → B receives the template; A is not sent its own back
    assert a.enrol("3001", finger=6) == "OK: 1"
    got_b = b.poll_until_quiet()
    sent = b.templates[("3001", "FINGERTMP", "6")]
    assert [r.command.split("\tTMP=")[0] for r in got_b] == [
        f"DATA UPDATE FINGERTMP PIN=3001\tFID=6\tSize={len(sent)}\tValid=1"
    ]
    assert base64.b64decode(sent) == enrolment_template("SIMA000001", "3001", 6)
    assert not [c for c in a.poll_until_quiet() if "FINGERTMP" in c.command]
    assert AuditEvent.objects.filter(action="devices.template.copy").count() == 1

    # encryption at rest: the raw table holds no template bytes in clear
    template = enrolment_template("SIMA000001", "3001", 6)
    with connection.cursor() as cursor:
        cursor.execute("SELECT ciphertext FROM devices_biometrictemplate")
        (blob,) = cursor.fetchone()
    blob = bytes(blob)
    assert template[:32] not in blob and sent[:32].encode() not in blob
    assert b"SIMTMPL" not in blob
    # nor does the command table: the bytes were added only when handed out
    with connection.cursor() as cursor:
        cursor.execute("SELECT command FROM devices_devicecommand")
        assert not any(sent[:32] in row[0] for row in cursor.fetchall())

    # deactivated → both receive DELETE; the template is purged from the server
    assert (
        api_put(
            live_server.url,
            "/api/v1/employees/3001",
            hr_key,
            {"name": "孙新人", "attendance_group": org.group.code, "active": False},
        )
        == 200
    )
    for terminal in (a, b):
        commands = [r.command for r in terminal.poll_until_quiet()]
        assert "DATA DELETE USERINFO PIN=3001" in commands
        assert "3001" not in terminal.users
        assert not [k for k in terminal.templates if k[0] == "3001"]
    assert not BiometricTemplate.objects.exists()
    assert all(
        c.status == CommandStatus.DONE
        for c in DeviceCommand.objects.filter(command__contains="PIN=3001")
    )


def test_group_move_and_pin_mapping_reach_the_terminals(live_server, org, terminals):
    from tests.factories import AttendanceGroupFactory
    from ztk.devices.services import terminal_pin_set
    from ztk.org.group_services import group_members_move

    a, b = terminals
    # a mapped PIN and card: the terminals get PIN 77 instead of the employee number
    terminal_pin_set(actor=None, pin="77", employee=org.colleague, group=org.group, card="123456")
    for terminal in (a, b):
        commands = [r.command for r in terminal.poll_until_quiet()]
        assert commands == [
            "DATA DELETE USERINFO PIN=1003",
            "DATA UPDATE USERINFO PIN=77\tName=李四\tPri=0\tCard=123456",
        ]
    # moved to another group (no terminals) → deleted from both
    other = AttendanceGroupFactory(code="NIGHT", name="夜班")
    group_members_move(actor=None, employee_ids=[org.colleague.pk], to_group=other, via="person")
    for terminal in (a, b):
        assert [r.command for r in terminal.poll_until_quiet()] == ["DATA DELETE USERINFO PIN=77"]


def test_simulate_terminal_command(live_server, org, capsys):
    make_device("SIMC000003", group=org.group)
    call_command(
        "simulate-terminal",
        url=live_server.url,
        serial="SIMC000003",
        pins="1002,1003",
        date="2026-12-01",
        enrol="1002",
        polls=2,
        delay=0,
    )
    out = capsys.readouterr().out
    assert "GET OPTION FROM: SIMC000003" in out
    assert "ATTLOG (4 punches): OK: 4" in out
    assert "enrolled PIN 1002: OK: 1" in out
    assert "DATA UPDATE USERINFO PIN=1002" in out
    assert "users on this terminal: 7" in out
    assert BiometricTemplate.objects.filter(employee=org.employee).count() == 1
