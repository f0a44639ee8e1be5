"""Shared pieces for the terminal tests: sample bodies, terminals, a push helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from ztk.devices.models import Device, DeviceStatus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "zkteco"
SERIAL = "CGXH201260001"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_device(serial: str = SERIAL, *, status: str = DeviceStatus.APPROVED, group=None, **kw):
    return Device.objects.create(serial=serial, status=status, attendance_group=group, **kw)


@pytest.fixture
def approved(org):
    """An approved terminal of the org's attendance group (Asia/Shanghai)."""
    return make_device(group=org.group)


@pytest.fixture
def pending(org):
    return make_device("PEND0001", status=DeviceStatus.PENDING, group=org.group)


def post(client, table: str, body: bytes | str, serial: str = SERIAL, **params):
    data = body.encode() if isinstance(body, str) else body
    query = "&".join([f"SN={serial}", f"table={table}", *[f"{k}={v}" for k, v in params.items()]])
    return client.post(f"/iclock/cdata?{query}", data=data, content_type="text/plain")
