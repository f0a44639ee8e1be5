"""Shared pieces for the terminal tests: sample bodies, terminals, a push helper."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.cache import cache

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


@pytest.fixture(autouse=True)
def _fresh_registration_counters():
    """Registration rates live in the cache, which outlives a test; start each one at zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def photo_dir(settings, tmp_path):
    """Terminal photos go to a directory of their own for the test."""
    settings.DEVICE_PHOTO_DIR = str(tmp_path / "device-photos")
    return tmp_path / "device-photos"


def image_bytes(size=(64, 48), fmt="JPEG", color=(200, 30, 30)) -> bytes:
    """A real picture made by Pillow (a terminal sends a 640×480 JPEG or so)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def photo_body(image: bytes, name: str = "20261126085703-1002.jpg", serial: str = SERIAL) -> bytes:
    """An ATTPHOTO upload: key=value header lines up to CMD=uploadphoto, NUL, the bytes."""
    header = f"PIN={name}\nSN={serial}\nsize={len(image)}\nCMD=uploadphoto"
    return header.encode() + b"\x00" + image
