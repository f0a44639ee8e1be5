"""Commands that are never lost, over real HTTP: re-sent after a timeout, expired after the
attempt limit, answered once (a repeated answer changes nothing), unknown ids logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from ztk.audit.models import AuditEvent
from ztk.devices.models import CommandStatus, DeviceCommand, DeviceLog, LogKind

from .conftest import make_device
from .terminal import Terminal

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def timing(settings):
    settings.DEVICE_COMMAND_TIMEOUT = 300
    settings.DEVICE_COMMAND_ATTEMPTS = 2
    return settings


def test_unanswered_command_is_resent_after_the_timeout_then_expires(live_server, org, timing):
    device = make_device(group=org.group)
    command = DeviceCommand.objects.create(device=device, command="INFO")
    terminal = Terminal(live_server.url)

    with time_machine.travel(START, tick=False):
        assert terminal.poll()[1] == f"C:{command.pk}:INFO\n"
    with time_machine.travel(START + timedelta(seconds=200), tick=False):
        assert terminal.poll()[1] == "OK"  # not yet overdue: not sent twice
    with time_machine.travel(START + timedelta(seconds=301), tick=False):
        assert terminal.poll()[1] == f"C:{command.pk}:INFO\n"  # overdue: sent again
    command.refresh_from_db()
    assert (command.status, command.attempts) == (CommandStatus.SENT, 2)
    assert command.sent_at == START + timedelta(seconds=301)

    with time_machine.travel(START + timedelta(seconds=700), tick=False):
        assert terminal.poll()[1] == "OK"  # attempts used up: expired, not sent a third time
    command.refresh_from_db()
    assert (command.status, command.attempts) == (CommandStatus.EXPIRED, 2)
    assert DeviceLog.objects.filter(kind=LogKind.COMMAND, code="command_expired").count() == 1
    assert AuditEvent.objects.filter(action="devices.command.expire").count() == 1


def test_answer_matches_by_id_and_a_repeated_answer_changes_nothing(live_server, org, timing):
    device = make_device(group=org.group)
    command = DeviceCommand.objects.create(device=device, command="REBOOT")
    terminal = Terminal(live_server.url)
    with time_machine.travel(START, tick=False):
        terminal.poll()
    with time_machine.travel(START + timedelta(seconds=10), tick=False):
        response, body = terminal.command_results(f"ID={command.pk}&Return=0&CMD=REBOOT\n".encode())
    assert (response.status, body) == (200, "OK")
    command.refresh_from_db()
    assert (command.status, command.return_code) == (CommandStatus.DONE, 0)
    assert command.done_at == START + timedelta(seconds=10)

    with time_machine.travel(START + timedelta(seconds=60), tick=False):
        response, body = terminal.command_results(
            f"ID={command.pk}&Return=-1&CMD=REBOOT\n".encode()
        )
    assert (response.status, body) == (200, "OK")
    command.refresh_from_db()
    assert (command.status, command.return_code) == (CommandStatus.DONE, 0)
    assert command.done_at == START + timedelta(seconds=10)
    assert AuditEvent.objects.filter(action="devices.command.results").count() == 1
    # Answered: never handed out again, however long we wait.
    with time_machine.travel(START + timedelta(days=1), tick=False):
        assert terminal.poll()[1] == "OK"


def test_unknown_or_foreign_id_is_logged_not_crashed(live_server, org):
    device = make_device(group=org.group)
    other = make_device("OTHER0001", group=org.group)
    foreign = DeviceCommand.objects.create(device=other, command="INFO")
    response, body = Terminal(live_server.url).command_results(
        f"ID=999999&Return=0&CMD=INFO\nID={foreign.pk}&Return=0&CMD=INFO\nID=abc&Return=0\n".encode()
    )
    assert (response.status, body) == (200, "OK")
    assert DeviceLog.objects.filter(device=device, code="unknown_command").count() == 3
    foreign.refresh_from_db()
    assert foreign.status == CommandStatus.QUEUED


def test_several_commands_per_poll_in_order_with_a_cap(live_server, org, settings):
    settings.DEVICE_COMMANDS_PER_POLL = 3
    device = make_device(group=org.group)
    ids = [DeviceCommand.objects.create(device=device, command="LOG").pk for _ in range(5)]
    terminal = Terminal(live_server.url)
    assert terminal.poll()[1] == "".join(f"C:{i}:LOG\n" for i in ids[:3])
    assert terminal.poll()[1] == "".join(f"C:{i}:LOG\n" for i in ids[3:])
    assert terminal.poll()[1] == "OK"


def test_a_late_answer_to_an_expired_command_is_still_recorded(live_server, org, timing):
    timing.DEVICE_COMMAND_ATTEMPTS = 1
    device = make_device(group=org.group)
    command = DeviceCommand.objects.create(device=device, command="CHECK")
    terminal = Terminal(live_server.url)
    with time_machine.travel(START, tick=False):
        terminal.poll()
    with time_machine.travel(START + timedelta(seconds=400), tick=False):
        assert terminal.poll()[1] == "OK"
    command.refresh_from_db()
    assert command.status == CommandStatus.EXPIRED
    terminal.command_results(f"ID={command.pk}&Return=0&CMD=CHECK\n".encode())
    command.refresh_from_db()
    assert (command.status, command.return_code) == (CommandStatus.DONE, 0)


def test_set_clock_is_filled_with_the_terminal_local_time_when_handed_out(live_server, org):
    device = make_device(group=org.group)  # Asia/Shanghai, UTC+8
    command = DeviceCommand.objects.create(device=device, command="SET OPTIONS DateTime")
    with time_machine.travel(datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC), tick=False):
        body = Terminal(live_server.url).poll()[1]
    # 2026-12-05 09:02:03 local: ((26*12 + 11)*31 + 4) days + 9:02:03
    expected = ((26 * 12 + 11) * 31 + 4) * 86400 + 9 * 3600 + 2 * 60 + 3
    assert body == f"C:{command.pk}:SET OPTIONS DateTime={expected}\n"
