"""Terminal punch photos over real HTTP: who may store them, what is a photo, how much.

Before: `POST /iclock/fdata?SN=<any new serial>` with `CMD=uploadphoto` stored any bytes
under a name the sender chose, below MEDIA_ROOT, without limit — also for pending
terminals. Now only approved terminals store photos; the bytes must decode as a JPEG or
PNG of bounded size; a per-terminal quota and a retention period apply; files get random
names outside any public URL and HR sees them through a permission-checked view.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from datetime import timedelta

import pytest
from django.utils import timezone

from ztk.audit.models import AuditEvent
from ztk.devices.models import DeviceLog, DevicePhoto, DeviceStatus
from ztk.devices.services import held_punch_assign, photo_purge_expired
from ztk.punches.models import Punch

from .conftest import SERIAL, image_bytes, make_device, photo_body
from .terminal import Terminal

pytestmark = pytest.mark.django_db(transaction=True)


def stored_files(photo_dir) -> list:
    return sorted(p for p in photo_dir.rglob("*") if p.is_file()) if photo_dir.exists() else []


def noise_jpeg(seed: int, size=(640, 480)) -> bytes:
    """A photo that does not compress (about 300–500 KB), for quota arithmetic."""
    from PIL import Image

    rng = random.Random(seed)
    pixels = bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_an_unknown_or_pending_terminal_cannot_store_photos(live_server, org, photo_dir):
    stranger = Terminal(live_server.url, serial="NEWPHOTO1")
    for attempt in range(3):
        response, answer = stranger.photo(
            photo_body(image_bytes(color=(attempt, 0, 0))), fdata=True
        )
        assert (response.status, answer) == (200, "OK")  # the terminal moves on
    make_device("PEND0001", status=DeviceStatus.PENDING, group=org.group)
    response, answer = Terminal(live_server.url, serial="PEND0001").photo(photo_body(image_bytes()))
    assert (response.status, answer) == (200, "OK")

    assert not DevicePhoto.objects.exists()
    assert stored_files(photo_dir) == []
    # Logged once per terminal and interval, not once per upload.
    assert DeviceLog.objects.filter(code="not_approved").count() == 2
    assert not AuditEvent.objects.filter(action="devices.push.photo").exists()


def test_an_approved_terminal_stores_a_checked_photo_linked_to_its_punch(
    live_server, org, photo_dir, settings
):
    make_device(group=org.group)
    terminal = Terminal(live_server.url)
    terminal.upload("ATTLOG", b"1002\t2026-11-26 08:57:03\t0\t15\t0\t0\t0\n", Stamp="1")
    image = image_bytes(size=(640, 480))

    response, answer = terminal.photo(photo_body(image, name="20261126085703-1002.jpg"), Stamp="9")

    assert (response.status, answer) == (200, "OK")
    photo = DevicePhoto.objects.get()
    assert photo.punch == Punch.objects.get(pin="1002")
    assert (photo.pin, photo.local_time, photo.width, photo.height) == (
        "1002",
        "2026-11-26 08:57:03",
        640,
        480,
    )
    (path,) = stored_files(photo_dir)
    assert path.read_bytes() == image
    assert "1002" not in path.name and "20261126" not in path.name  # a random name
    assert settings.MEDIA_ROOT not in path.parents
    event = AuditEvent.objects.get(action="devices.push.photo")
    assert event.changes["punch"] == photo.punch_id


def test_a_photo_sent_before_its_punch_is_linked_when_the_punch_arrives(
    live_server, org, photo_dir
):
    make_device(group=org.group)
    terminal = Terminal(live_server.url)
    terminal.photo(photo_body(image_bytes(), name="20261126180501-1003.jpg"))
    assert DevicePhoto.objects.get().punch is None

    terminal.upload("ATTLOG", b"1003\t2026-11-26 18:05:01\t1\t1\t0\t0\t0\n", Stamp="2")

    assert DevicePhoto.objects.get().punch == Punch.objects.get(pin="1003")


def test_a_photo_of_an_unknown_pin_is_linked_once_hr_assigns_the_punch(live_server, org, photo_dir):
    make_device(group=org.group)
    terminal = Terminal(live_server.url)
    terminal.upload("ATTLOG", b"77\t2026-11-26 08:50:00\t0\t15\t0\t0\t0\n", Stamp="3")
    terminal.photo(photo_body(image_bytes(), name="20261126085000-77.jpg"))
    assert DevicePhoto.objects.get().punch is None  # the punch is held: PIN 77 is nobody

    held_punch_assign(actor=org.hr.user, employee=org.colleague, pin="77")

    assert DevicePhoto.objects.get().punch == Punch.objects.get(pin="77", employee=org.colleague)


def _jpeg_then_html() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00<html><script>alert(1)</script></html>"


def _truncated_jpeg() -> bytes:
    whole = noise_jpeg(1, size=(200, 150))
    return whole[: len(whole) // 2]


def _gif() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("P", (8, 8)).save(buffer, format="GIF")
    return buffer.getvalue()


REFUSED = {
    "html": (b"<!DOCTYPE html><script>alert(document.cookie)</script>", "not_an_image"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "not_an_image"),
    "pdf": (b"%PDF-1.7\n1 0 obj<<>>endobj\n", "not_an_image"),
    "gif": (_gif(), "not_an_image"),
    "jpeg-marker-then-html": (_jpeg_then_html(), "not_an_image"),
    "truncated-jpeg": (_truncated_jpeg(), "broken_image"),
    "png-bomb-60000x60000": (png_claiming(60_000, 60_000), "too_many_pixels"),
    "png-claiming-5000x4000": (png_claiming(5_000, 4_000), "too_many_pixels"),
}


@pytest.mark.parametrize("kind", list(REFUSED))
def test_what_is_not_a_sane_picture_is_refused_and_logged(live_server, org, photo_dir, kind):
    data, code = REFUSED[kind]
    make_device(group=org.group)

    response, answer = Terminal(live_server.url).photo(photo_body(data, name="../../x.html"))

    assert (response.status, answer) == (200, "OK")
    assert not DevicePhoto.objects.exists()
    assert stored_files(photo_dir) == []
    assert DeviceLog.objects.get(kind="photo").code == code


def test_a_photo_over_the_byte_limit_is_refused(live_server, org, photo_dir, settings):
    settings.DEVICE_PHOTO_MAX_KB = 64
    make_device(group=org.group)

    Terminal(live_server.url).photo(photo_body(noise_jpeg(2)))

    assert DeviceLog.objects.get(kind="photo").code == "too_large"
    assert stored_files(photo_dir) == []


def test_the_quota_per_terminal_holds_and_a_resent_photo_is_kept_once(
    live_server, org, photo_dir, settings
):
    settings.DEVICE_PHOTO_QUOTA_MB = 1
    make_device(group=org.group)
    other = make_device("OTHER0001", group=org.group)
    terminal = Terminal(live_server.url)
    photos = [noise_jpeg(seed) for seed in range(6)]
    fits = 0
    while sum(len(p) for p in photos[: fits + 1]) <= 1024 * 1024:
        fits += 1
    assert 1 <= fits < len(photos)  # the arithmetic below needs a quota that fills up

    for index, data in enumerate(photos):
        terminal.photo(photo_body(data, name=f"2026112609{index:02d}00-1002.jpg"))
    terminal.photo(photo_body(photos[0], name="20261126090000-1002.jpg"))  # sent again

    assert DevicePhoto.objects.filter(device__serial=SERIAL).count() == fits
    assert sum(DevicePhoto.objects.values_list("size", flat=True)) <= 1024 * 1024
    assert len(stored_files(photo_dir)) == fits  # refused ones leave no file behind
    assert DeviceLog.objects.filter(code="quota_full").count() == 1  # logged once
    # The quota is per terminal: another one still stores its photos.
    Terminal(live_server.url, serial=other.serial).photo(photo_body(photos[-1]))
    assert DevicePhoto.objects.filter(device=other).count() == 1


def test_photos_past_the_retention_period_are_deleted_with_their_files(
    live_server, org, photo_dir, settings
):
    settings.DEVICE_PHOTO_RETENTION_DAYS = 30
    make_device(group=org.group)
    terminal = Terminal(live_server.url)
    for index in range(3):
        terminal.photo(photo_body(image_bytes(color=(index * 80, 1, 1))))
    old, *recent = DevicePhoto.objects.order_by("id")
    DevicePhoto.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))

    assert photo_purge_expired() == 1

    assert list(DevicePhoto.objects.order_by("id")) == recent
    assert len(stored_files(photo_dir)) == 2
    assert not (photo_dir / old.file).exists()
    event = AuditEvent.objects.get(action="devices.photo.purge")
    assert (event.changes["count"], event.changes["retention_days"]) == (1, 30)


class TestThePhotoView:
    @pytest.fixture
    def stored(self, live_server, org, photo_dir):
        make_device(group=org.group)
        Terminal(live_server.url).photo(photo_body(image_bytes(), name="20261126085703-1002.jpg"))
        return DevicePhoto.objects.get()

    def test_hr_sees_it_as_an_image_that_cannot_run_anything(self, client, org, stored):
        client.force_login(org.hr.user)
        response = client.get(f"/hr/devices/{SERIAL}/photos/{stored.pk}/")

        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert "private" in response["Cache-Control"]
        page = client.get(f"/hr/devices/{SERIAL}/")
        assert f"/hr/devices/{SERIAL}/photos/{stored.pk}/" in page.content.decode()

    @pytest.mark.parametrize("who", ["employee", "supervisor", "auditor"])
    def test_nobody_else_does(self, client, org, stored, who):
        client.force_login(getattr(org, who).user)
        assert client.get(f"/hr/devices/{SERIAL}/photos/{stored.pk}/").status_code == 403

    def test_not_anonymously_not_under_another_terminal_not_under_media(self, client, org, stored):
        response = client.get(f"/hr/devices/{SERIAL}/photos/{stored.pk}/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        client.force_login(org.hr.user)
        assert client.get(f"/hr/devices/OTHER/photos/{stored.pk}/").status_code == 404
        assert client.get(f"/media/{stored.file}").status_code == 404
        assert client.get(f"/media/device-photos/{stored.file}").status_code == 404
