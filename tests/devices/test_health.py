"""A terminal's command history and health on its HR page: states, attempts, times,
results; the clock set on request and when drift is too large; silent terminals flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from ztk.audit.models import AuditEvent
from ztk.devices import selectors
from ztk.devices.models import CommandStatus, DeviceCommand

from .conftest import make_device
from .terminal import Terminal

# Tuesday 2026-12-01, 10:00 in Shanghai (02:00 UTC): a working day, in working hours.
WORKING = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def hr_client(client, org):
    client.force_login(org.hr.user)
    return client


@pytest.mark.django_db
def test_history_shows_each_command_state_attempts_times_and_result(hr_client, approved):
    done = DeviceCommand.objects.create(
        device=approved,
        command="INFO",
        status=CommandStatus.DONE,
        attempts=1,
        return_code=0,
        sent_at=WORKING,
        done_at=WORKING + timedelta(seconds=12),
        result={"cmd": "INFO", "DeviceName": "iFace702"},
    )
    DeviceCommand.objects.create(
        device=approved, command="REBOOT", status=CommandStatus.EXPIRED, attempts=3
    )
    html = hr_client.get(reverse("devices:detail", args=[approved.serial])).content.decode()
    history = html[html.index('id="command-history"') :]
    assert "DeviceName=iFace702" in history
    assert "已回复：成功" in history or "Answered: OK" in history
    assert "未回复，已过期" in history or "Expired unanswered" in history
    assert (done.done_at.astimezone(UTC) + timedelta(hours=8)).strftime("%H:%M:%S") in history


@pytest.mark.django_db
def test_hr_sets_the_clock_and_clears_photos_once_each_audited(hr_client, approved, org):
    url = reverse("devices:command", args=[approved.serial])
    hr_client.post(url, {"kind": "set_clock"})
    hr_client.post(url, {"kind": "set_clock"})  # one already waiting: not queued twice
    hr_client.post(url, {"kind": "clear_photos"})
    commands = list(DeviceCommand.objects.order_by("id").values_list("command", "created_by"))
    assert commands == [
        ("SET OPTIONS DateTime", org.hr.user.pk),
        ("CLEAR PHOTO", org.hr.user.pk),
    ]
    assert AuditEvent.objects.filter(action="devices.command.queue").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_drifting_clock_is_measured_and_set_automatically(live_server, org, settings):
    settings.DEVICE_CLOCK_DRIFT = 120
    device = make_device(group=org.group)
    terminal = Terminal(live_server.url)
    with time_machine.travel(WORKING, tick=False):
        # 10:00:00 in Shanghai; the terminal's punch says 10:00:30 (30 s ahead: tolerated).
        terminal.upload("ATTLOG", b"1002\t2026-12-01 10:00:30\t0\t1\t0\t0\t0\n", Stamp="1")
    device.refresh_from_db()
    assert device.clock_drift == 30
    assert not DeviceCommand.objects.exists()

    with time_machine.travel(WORKING + timedelta(minutes=5), tick=False):
        # 10:05 here, the terminal says 10:12:00: seven minutes ahead.
        terminal.upload("ATTLOG", b"1002\t2026-12-01 10:12:00\t0\t1\t0\t0\t0\n", Stamp="2")
        terminal.upload("ATTLOG", b"1003\t2026-12-01 10:12:01\t0\t1\t0\t0\t0\n", Stamp="3")
    device.refresh_from_db()
    assert device.clock_drift == 421
    command = DeviceCommand.objects.get()  # once, though two uploads showed the drift
    assert command.command == "SET OPTIONS DateTime" and command.created_by is None
    event = AuditEvent.objects.get(action="devices.command.queue")
    assert "drift" in str(event.changes)

    with time_machine.travel(WORKING + timedelta(minutes=6), tick=False):
        assert terminal.poll()[1].startswith(f"C:{command.pk}:SET OPTIONS DateTime=")
        terminal.command_results(f"ID={command.pk}&Return=0&CMD=SET\n".encode())
    device.refresh_from_db()
    assert device.clock_drift == 0


@pytest.mark.django_db
def test_silent_terminals_in_working_hours_are_flagged(hr_client, org, settings):
    settings.DEVICE_SILENT_MINUTES = 30
    quiet = make_device("QUIET0001", group=org.group, last_seen=WORKING - timedelta(hours=2))
    make_device("LIVE0001", group=org.group, last_seen=WORKING - timedelta(minutes=5))
    make_device("NEVER0001", group=org.group)
    with time_machine.travel(WORKING, tick=False):
        assert [d.serial for d in selectors.silent_terminals(WORKING)] == ["NEVER0001", "QUIET0001"]
        html = hr_client.get(reverse("devices:index")).content.decode()
    row = html[html.index("QUIET0001") :].split("</tr>", 1)[0]
    assert "silent in working hours" in row or "工作时间内无联系" in row
    live_row = html[html.index("LIVE0001") :].split("</tr>", 1)[0]
    assert "silent in working hours" not in live_row and "工作时间内无联系" not in live_row
    # At night (22:00 in Shanghai) or on Saturday nobody is flagged.
    night = WORKING + timedelta(hours=12)
    saturday = WORKING + timedelta(days=4)
    assert selectors.silent_terminals(night) == []
    assert selectors.silent_terminals(saturday) == []
    assert selectors.is_silent(quiet, WORKING)
