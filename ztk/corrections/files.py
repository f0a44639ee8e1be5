"""Proof files: the type is read from the content (magic bytes), never from the name."""

from __future__ import annotations

from typing import Any

# ISO base-media brands of HEIF/HEIC pictures (what phones save photos as).
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)

ALLOWED_TYPES = ("image/jpeg", "image/png", "image/heic", "image/webp", "application/pdf")
MAX_BYTES = 10 * 1024 * 1024
MAX_PER_REQUEST = 5
SNIFF_BYTES = 32


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or None when it is not allowed."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def read_head(file: Any, size: int = SNIFF_BYTES) -> bytes:
    """The first bytes of an uploaded or in-memory file, leaving it rewound."""
    if hasattr(file, "seek"):
        file.seek(0)
    head = file.read(size)
    if hasattr(file, "seek"):
        file.seek(0)
    return head if isinstance(head, bytes) else head.encode()


def file_size(file: Any) -> int:
    size = getattr(file, "size", None)
    if size is not None:
        return int(size)
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return int(size)
