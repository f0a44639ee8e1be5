"""Pulling punches over 4370 through a fake terminal that answers like pyzk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from ztk.devices import pull
from ztk.devices.models import DeviceLog, DeviceStatus, HeldPunch, HoldReason
from ztk.punches.models import Punch

from .conftest import make_device

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Record:
    """Shaped like pyzk's Attendance: status is the verify mode, punch the punch state."""

    user_id: str
    timestamp: datetime
    status: int = 1
    punch: int = 0
    uid: int = 0


class FakeTerminal:
    def __init__(self, serial: str, records: list[Record], *, fail: Exception | None = None):
        self.serial = serial
        self.records = records
        self.fail = fail
        self.calls: list[str] = []

    def connect(self) -> None:
        self.calls.append("connect")
        if self.fail:
            raise self.fail

    def get_serialnumber(self) -> str:
        self.calls.append("serial")
        return self.serial

    def get_attendance(self):
        self.calls.append("attendance")
        return list(self.records)

    def disconnect(self) -> None:
        self.calls.append("disconnect")


@pytest.fixture
def terminal_device(org):
    return make_device("PULL0001", group=org.group, pull_enabled=True, pull_host="192.168.1.201")


def day(h: int, m: int, d: int = 26) -> datetime:
    return datetime(2026, 11, d, h, m, 0)


def test_fake_terminal_satisfies_the_interface():
    fake: pull.TerminalClient = FakeTerminal("X", [])
    assert isinstance(Record("1", day(9, 0)), pull.AttendanceRecord)
    assert fake.get_attendance() == []


def test_first_pull_takes_everything_and_sets_the_watermark(org, terminal_device):
    fake = FakeTerminal(
        "PULL0001",
        [Record("1002", day(8, 55), status=15, punch=0), Record("1002", day(18, 5), punch=1)],
    )
    result = pull.device_pull(terminal_device, client=fake)

    assert result.ok
    assert (result.read, result.outcome.new) == (2, 2)
    assert fake.calls == ["connect", "serial", "attendance", "disconnect"]
    punch = Punch.objects.order_by("at").first()
    assert (punch.source, punch.device_sn, punch.pin) == ("device", "PULL0001", "1002")
    assert (punch.verify_mode, punch.punch_state) == (15, 0)
    assert punch.at == day(8, 55).replace(tzinfo=SHANGHAI)
    terminal_device.refresh_from_db()
    assert terminal_device.pull_watermark == day(18, 5).replace(tzinfo=SHANGHAI)


def test_next_pull_is_incremental_and_the_boundary_is_safe(org, terminal_device):
    old = [Record("1002", day(8, 55)), Record("1002", day(18, 5))]
    pull.device_pull(terminal_device, client=FakeTerminal("PULL0001", old))
    # Same second as the watermark, another person: must not be lost.
    newer = [*old, Record("1003", day(18, 5)), Record("1003", day(8, 40, d=27))]
    terminal_device.refresh_from_db()

    result = pull.device_pull(terminal_device, client=FakeTerminal("PULL0001", newer))

    assert result.skipped == 1  # 08:55 is before the watermark
    assert (result.outcome.new, result.outcome.duplicate) == (2, 1)
    assert Punch.objects.count() == 4


def test_a_future_record_does_not_move_the_watermark(org, terminal_device):
    future = (datetime.now(UTC) + timedelta(days=3)).astimezone(SHANGHAI).replace(tzinfo=None)
    result = pull.device_pull(
        terminal_device,
        client=FakeTerminal(
            "PULL0001", [Record("1002", day(8, 55)), Record("1002", future.replace(microsecond=0))]
        ),
    )
    assert [r.code for r in result.outcome.refused] == ["future_time"]
    terminal_device.refresh_from_db()
    assert terminal_device.pull_watermark == day(8, 55).replace(tzinfo=SHANGHAI)
    assert DeviceLog.objects.get().code == "future_time"


def test_unknown_pins_and_pending_terminals_are_held(org, terminal_device):
    pull.device_pull(terminal_device, client=FakeTerminal("PULL0001", [Record("55", day(9, 0))]))
    assert HeldPunch.objects.get().reason == HoldReason.UNKNOWN_PIN

    pending = make_device("PULL0002", status=DeviceStatus.PENDING, group=org.group)
    pull.device_pull(pending, client=FakeTerminal("PULL0002", [Record("1002", day(9, 0))]))
    assert HeldPunch.objects.get(device=pending).reason == HoldReason.PENDING_DEVICE
    assert HeldPunch.objects.get(device=pending).channel == "pull"


def test_wrong_serial_or_network_error_is_logged_not_raised(org, terminal_device):
    result = pull.device_pull(
        terminal_device, client=FakeTerminal("OTHER", [Record("1", day(9, 0))])
    )
    assert not result.ok
    assert "OTHER" in result.error
    result = pull.device_pull(
        terminal_device, client=FakeTerminal("PULL0001", [], fail=OSError("timed out"))
    )
    assert not result.ok
    assert DeviceLog.objects.filter(code="pull_failed").count() == 2
    assert Punch.objects.count() == 0


def test_bad_records_are_refused_alone(org, terminal_device):
    records = [Record("", day(9, 0)), Record("1002", day(9, 1)), Record("1003", None)]
    result = pull.device_pull(terminal_device, client=FakeTerminal("PULL0001", records))
    assert result.outcome.new == 1
    assert sorted(r.code for r in result.outcome.refused) == ["bad_timestamp", "empty_pin"]


def test_a_record_with_a_forbidden_character_is_refused_alone(org, terminal_device):
    records = [Record("10\x0002", day(9, 0)), Record("1002", day(9, 1))]
    result = pull.device_pull(terminal_device, client=FakeTerminal("PULL0001", records))
    assert result.outcome.new == 1
    assert [r.code for r in result.outcome.refused] == ["invalid_text"]
    assert DeviceLog.objects.get(code="invalid_text").raw.startswith("10\\x0002\t")


def test_disabled_terminals_are_not_pulled(org, terminal_device):
    terminal_device.status = DeviceStatus.DISABLED
    terminal_device.save()
    fake = FakeTerminal("PULL0001", [Record("1002", day(9, 0))])
    assert not pull.device_pull(terminal_device, client=fake).ok
    assert fake.calls == []


def test_command_and_periodic_task_pull_every_enabled_terminal(org, terminal_device, monkeypatch):
    make_device("PUSHONLY", group=org.group)  # not set up for pulling
    made: list[str] = []

    def factory(device):
        made.append(device.serial)
        return FakeTerminal(device.serial, [Record("1002", day(9, 0))])

    monkeypatch.setattr(pull, "default_client", factory)
    out = StringIO()
    call_command("pull-devices", stdout=out)

    assert made == ["PULL0001"]
    assert "PULL0001: read 1" in out.getvalue()
    assert Punch.objects.count() == 1

    from ztk.devices.tasks import pull_devices

    pull_devices.call_local()
    assert made == ["PULL0001", "PULL0001"]
    assert Punch.objects.count() == 1  # deduplicated


def test_pyzk_adapter_passes_the_settings(monkeypatch):
    zk = pytest.importorskip("zk")
    seen = {}

    class FakeZK:
        def __init__(self, ip, **kwargs):
            seen.update(ip=ip, **kwargs)

    monkeypatch.setattr(zk, "ZK", FakeZK)
    pull.PyZkClient("10.0.0.9", 4371, password=123, udp=True)
    assert seen["ip"] == "10.0.0.9"
    assert seen["port"] == 4371
    assert seen["password"] == 123
    assert seen["force_udp"] is True
    assert seen["ommit_ping"] is True
