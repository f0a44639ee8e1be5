"""Punch photos from terminals: read as images, kept outside any public URL, bounded.

A terminal's photo upload is untrusted bytes from an unauthenticated sender, so it is
stored only when the terminal is approved, the bytes decode as a JPEG or PNG picture of
sane dimensions (Pillow identifies the format from the content; the pixel count is checked
before anything is decoded, which defuses decompression bombs) and the terminal's quota
has room. Files get random names in a storage that no URL maps to; the HR page reads them
through a permission-checked view.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage

from . import conf

# What Pillow may identify an upload as, and what we call it.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}

REASONS = {
    "not_approved": "the terminal is not approved: its photos are not stored",
    "no_image": "the upload has no image data",
    "too_large": "the photo is larger than the limit",
    "not_an_image": "the data is not a JPEG or PNG picture",
    "too_many_pixels": "the picture has more pixels than the limit",
    "broken_image": "the picture cannot be decoded",
    "quota_full": (
        "the terminal's photo quota is full; photos past the retention period are deleted daily"
    ),
}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


class PhotoRefusedError(Exception):
    """Why an upload is not stored; `code` is one of REASONS."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = REASONS[code] + (f" ({detail})" if detail else "")


def inspect_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """The picture's type and size, or PhotoRefusedError; never trusts a name or header.

    Order matters: the byte size first, then Pillow reads only the header (format and
    dimensions) and the pixel count is checked, and only then is the whole image decoded,
    so a small file claiming 60,000 × 60,000 pixels is refused before it allocates memory.
    """
    if not data:
        raise PhotoRefusedError("no_image")
    if len(data) > max_bytes:
        raise PhotoRefusedError("too_large", f"{len(data)} bytes, at most {max_bytes}")
    from PIL import Image  # imported here: only photo uploads need Pillow loaded

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=tuple(IMAGE_TYPES)) as image:
                width, height = image.size
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    raise PhotoRefusedError(
                        "too_many_pixels", f"{width}×{height}, at most {max_pixels} pixels"
                    )
                content_type = IMAGE_TYPES[image.format or ""]
                image.load()
        except PhotoRefusedError:
            raise
        except Image.UnidentifiedImageError:
            raise PhotoRefusedError("not_an_image") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRefusedError("too_many_pixels") from None
        except Exception as exc:  # noqa: BLE001 - any decoder failure on hostile bytes
            raise PhotoRefusedError("broken_image", type(exc).__name__) from None
    return ImageInfo(content_type, width, height)


def storage() -> Storage:
    """The private photo storage: a directory no URL pattern and no static server maps to."""
    return FileSystemStorage(location=conf.photo_dir(), base_url=None)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_file(data: bytes, content_type: str, now: datetime) -> str:
    """Write the bytes under a random name (nothing the terminal sent is part of it)."""
    name = f"{now:%Y/%m}/{uuid.uuid4().hex}{EXTENSIONS[content_type]}"
    return storage().save(name, ContentFile(data))


def delete_file(name: str) -> None:
    store = storage()
    if name and store.exists(name):
        store.delete(name)
