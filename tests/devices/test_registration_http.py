"""New-terminal registration under a flood, over real HTTP from several source addresses.

Before: 189 anonymous requests with new serials in 2 s filled the pending list (200), each
writing an audit event and two queued commands, and a genuine new terminal then got 503.
Now registrations are rate-limited per source address (cache), pending terminals are
capped per source address and overall (database), and when the list is full the oldest
pending terminal of the biggest source is evicted if it holds no punches — so an
attacker on one or a few addresses cannot keep a real terminal out.

The clients bind to different loopback addresses (127.0.0.x), which the server sees as
different REMOTE_ADDRs.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from ztk.audit.models import AuditEvent
from ztk.devices.models import Device, DeviceCommand, DeviceStatus, HeldPunch

from .terminal import Terminal

pytestmark = pytest.mark.django_db(transaction=True)

REAL = "CGXH201260777"


def junk(base_url: str, source: str, count: int) -> list[int]:
    """`count` requests with fresh serials from `source`; their status codes.

    In parallel on PostgreSQL. The SQLite test database is in memory with a shared cache,
    where concurrent writers fail at once with "table is locked" (a file database in WAL
    mode, as deployed, makes them wait), so there they go one after the other.
    """
    workers = 8 if connection.vendor == "postgresql" else 1

    def one(_index: int) -> int:
        serial = "J" + uuid.uuid4().hex[:15].upper()
        response, _body = Terminal(base_url, serial, source=source).handshake()
        return response.status

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


def first_contacts() -> int:
    return AuditEvent.objects.filter(action="devices.device.first_contact").count()


def test_a_flood_from_one_address_cannot_lock_out_a_real_terminal(live_server, db):
    started = time.monotonic()
    statuses = junk(live_server.url, "127.0.0.2", 189)
    elapsed = time.monotonic() - started

    junk_devices = Device.objects.filter(registered_from="127.0.0.2")
    assert junk_devices.count() == 10  # the per-address cap (default)
    assert statuses.count(200) == 10 and statuses.count(429) == 179
    # Refused requests write nothing: one audit event and two commands per terminal kept.
    assert first_contacts() == 10
    assert DeviceCommand.objects.count() == 20
    assert elapsed < 30, f"189 junk requests took {elapsed:.1f} s"

    response, body = Terminal(live_server.url, REAL, source="127.0.0.3").handshake()

    assert response.status == 200
    assert body.startswith(f"GET OPTION FROM: {REAL}")
    assert Device.objects.get(serial=REAL).status == DeviceStatus.PENDING


def test_a_full_pending_list_makes_room_from_the_biggest_source(live_server, db, settings):
    settings.DEVICE_MAX_PENDING = 12
    settings.DEVICE_MAX_PENDING_PER_ADDRESS = 5
    # A real terminal that already waits and has sent punches is never evicted.
    waiting = Terminal(live_server.url, "CGXH2012600WAIT", source="127.0.0.9")
    waiting.upload("ATTLOG", b"1002\t2026-11-26 08:57:03\t0\t1\t0\t0\t0\n", Stamp="1")
    # An attacker on three addresses: 15 slots wanted, 11 left.
    for source in ("127.0.0.21", "127.0.0.22", "127.0.0.23"):
        junk(live_server.url, source, 40)
    assert Device.objects.filter(status=DeviceStatus.PENDING).count() == 12

    response, _body = Terminal(live_server.url, REAL, source="127.0.0.30").handshake()

    assert response.status == 200
    assert Device.objects.filter(serial=REAL).exists()
    assert Device.objects.filter(status=DeviceStatus.PENDING).count() == 12
    assert HeldPunch.objects.filter(device__serial="CGXH2012600WAIT").count() == 1
    evicted = AuditEvent.objects.filter(action="devices.device.evict")
    assert evicted.count() >= 1
    assert "CGXH2012600WAIT" not in {e.changes["before"]["serial"] for e in evicted}
    assert {e.changes["before"]["source"] for e in evicted} <= {
        "127.0.0.21",
        "127.0.0.22",
        "127.0.0.23",
    }
    # The attacker's sources were each held to the per-address cap and the hourly rate.
    for source in ("127.0.0.21", "127.0.0.22", "127.0.0.23"):
        assert Device.objects.filter(registered_from=source).count() <= 5
        assert (
            AuditEvent.objects.filter(
                action="devices.device.first_contact", changes__source=source
            ).count()
            <= 20
        )


def test_registrations_per_address_are_rate_limited(live_server, db, settings):
    settings.DEVICE_REGISTRATIONS_PER_HOUR = 3
    settings.DEVICE_MAX_PENDING_PER_ADDRESS = 100
    answers = [
        Terminal(live_server.url, f"RATE000{n}", source="127.0.0.4").handshake()[0].status
        for n in range(5)
    ]

    assert answers == [200, 200, 200, 429, 429]
    # Known terminals on that address carry on; other addresses are not affected.
    assert Terminal(live_server.url, "RATE0000", source="127.0.0.4").poll()[0].status == 200
    assert Terminal(live_server.url, "RATE0009", source="127.0.0.5").handshake()[0].status == 200


@pytest.mark.postgres_only
def test_concurrent_registrations_from_one_address_respect_the_cap(live_server, db, settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer anyway")
    settings.DEVICE_MAX_PENDING_PER_ADDRESS = 3
    barrier = threading.Barrier(12)

    def one(index: int) -> int:
        terminal = Terminal(live_server.url, f"RACE{index:04d}", source="127.0.0.6")
        barrier.wait()
        return terminal.handshake()[0].status

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(one, range(12)))

    assert sorted(statuses) == [200] * 3 + [429] * 9
    assert Device.objects.filter(registered_from="127.0.0.6").count() == 3
    assert first_contacts() == 3


def test_a_new_serial_is_audited_once_however_often_it_calls(live_server, db):
    terminal = Terminal(live_server.url, REAL, source="127.0.0.7")
    terminal.handshake()
    for _ in range(4):
        terminal.poll()
    terminal.upload("ATTLOG", b"1\t2026-11-26 08:00:00\n")

    assert first_contacts() == 1
    assert DeviceCommand.objects.filter(device__serial=REAL).count() == 2
