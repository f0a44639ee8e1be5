"""Every uploaded file, one owner: what it is, where it is kept, how it is served.

Why one owner: a file is dangerous by what a browser makes of it, not by what its name
says. A photo called ``evil.html`` or an SVG served from the app's origin is stored XSS;
a name like ``../../settings.py`` must never become a path. So, for every kind of upload
(correction proofs, paper-form scans, field-punch photos, terminal photos):

- the type is read from the content (magic bytes), never from the name or the browser's
  ``Content-Type``; only the kind's types pass, and a file that carries HTML or script
  markup anywhere (a GIF/HTML or JPEG/script polyglot) is refused;
- the stored name is random (``<folder>/<uuid>.<extension of the sniffed type>``); the
  uploader's name is kept only as data, cleaned of paths and control characters;
- a file is served only through a view that checked permission first, with its sniffed
  type, ``X-Content-Type-Options: nosniff``, ``Content-Disposition``, no caching and a
  sandboxing Content-Security-Policy (`file_response`). Nothing under MEDIA_ROOT is ever
  served by URL.

Spreadsheets for imports are read by ``ztk.core.spreadsheets``; they are kept between the
preview and the commit by `stash` / `load` / `discard` below.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .text import text_problem

JPEG, PNG, WEBP, HEIC = "image/jpeg", "image/png", "image/webp", "image/heic"
PDF = "application/pdf"
IMAGE_TYPES = (JPEG, PNG, HEIC, WEBP)
EXTENSIONS = {JPEG: "jpg", PNG: "png", HEIC: "heic", WEBP: "webp", PDF: "pdf"}
# Shown inline by browsers (as pictures); everything else is offered as a download.
INLINE_TYPES = frozenset({JPEG, PNG, WEBP})

MAX_BYTES = 10 * 1024 * 1024  # the largest file any kind accepts
SNIFF_BYTES = 32
# Markup a browser would run if it ever took the file for HTML or SVG (case-insensitive).
# Anywhere in the file: markers long enough never to occur by chance in compressed picture
# data (a 10 MB photo holds a given 6-letter marker with odds of about 1 in 10 million).
_MARKUP_ANYWHERE = re.compile(
    rb"<\s*(?:script|iframe|object|embed|!doctype|\?xml-stylesheet)|javascript:|"
    rb"\bon(?:error|load)\s*=",
    re.IGNORECASE,
)
# In the first kilobyte, where sniffers look and a polyglot puts its second face, also
# the short tags.
_MARKUP_HEAD = re.compile(rb"<\s*(?:html|svg|body|head|meta|link|style|base|form)\b", re.I)
HEAD_BYTES = 1024
# ISO base-media brands of HEIF/HEIC pictures (what phones save photos as).
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
SERVE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"

FILE_EMPTY = "file_empty"
EMPTY_MESSAGE = _("The file is empty.")


@dataclass(frozen=True)
class Kind:
    """One kind of upload: the types it takes, its size limit, and the codes and messages
    of its refusals (stable per kind, e.g. ``attachment_type`` for correction proofs)."""

    folder: str
    types: tuple[str, ...]
    type_code: str
    type_message: Any
    size_code: str
    size_message: Any
    max_bytes: int = MAX_BYTES


PHOTO = Kind(
    folder="punch-photos",
    types=IMAGE_TYPES,
    type_code="photo_type",
    type_message=_("The photo must be a JPEG, PNG, HEIC or WebP picture."),
    size_code="photo_too_large",
    size_message=_("The photo may be at most 10 MB."),
)
PROOF = Kind(
    folder="corrections",
    types=(*IMAGE_TYPES, PDF),
    type_code="attachment_type",
    type_message=_("Only photos (JPEG, PNG, HEIC, WebP) and PDF files can be attached."),
    size_code="attachment_too_large",
    size_message=_("An attachment may be at most 10 MB."),
)
SCAN = Kind(
    folder="paper-forms",
    types=(*IMAGE_TYPES, PDF),
    type_code="attachment_type",
    type_message=_("The scan must be a photo (JPEG, PNG, HEIC, WebP) or a PDF file."),
    size_code="attachment_too_large",
    size_message=_("The scan may be at most 10 MB."),
)


@dataclass(frozen=True)
class Checked:
    """An upload that passed: its sniffed type, size and cleaned original name."""

    file: Any
    content_type: str
    size: int
    name: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


# --------------------------------------------------------------------------- reading


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or None when it is none we take."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return HEIC
    return None


def has_markup(data: bytes, *, head: bool = False) -> bool:
    """True when the bytes hold HTML/SVG/script markup (a polyglot's second face);
    `head`: these are the file's first bytes, where the short tags count too."""
    if head and _MARKUP_HEAD.search(data[:HEAD_BYTES]) is not None:
        return True
    return _MARKUP_ANYWHERE.search(data) is not None


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


def _scan_for_markup(file: Any, limit: int) -> bool:
    """Read the whole file (at most `limit` bytes) in chunks, overlapping so that a marker
    split between two chunks is still found."""
    file.seek(0)
    tail = b""
    seen = 0
    try:
        while seen <= limit:
            chunk = file.read(1 << 20)
            if not chunk:
                return False
            if isinstance(chunk, str):
                chunk = chunk.encode()
            if has_markup(tail + chunk, head=seen == 0):
                return True
            seen += len(chunk)
            tail = chunk[-32:]
        return False
    finally:
        file.seek(0)


def clean_name(name: str | None, default: str = "file") -> str:
    """The uploader's file name as data: no folders (either slash), no control, bidi or
    other forbidden characters, at most 200 characters."""
    base = re.split(r"[\\/]", name or "")[-1].strip()
    cleaned = "".join(ch for ch in base if text_problem(ch) is None).strip(" .")
    return cleaned[-200:] or default


def check(file: Any, kind: Kind, *, index: int | None = None) -> Checked:
    """The upload's sniffed type and size, or DomainError with the kind's code.

    ``details`` name the file (and its position among several, when `index` is given)."""
    raw_name = getattr(file, "name", "") or ""
    where = {"index": index} if index is not None else {}
    size = file_size(file)
    if size == 0:
        raise DomainError(FILE_EMPTY, EMPTY_MESSAGE, details={**where, "size": 0})
    if size > kind.max_bytes:
        details = {**where, "size": size, "max": kind.max_bytes}
        raise DomainError(kind.size_code, kind.size_message, details=details)
    content_type = sniff(read_head(file))
    if content_type not in kind.types or _scan_for_markup(file, kind.max_bytes):
        raise DomainError(
            kind.type_code, kind.type_message, details={**where, "name": clean_name(raw_name)}
        )
    return Checked(file=file, content_type=content_type, size=size, name=clean_name(raw_name))


def random_name(content_type: str) -> str:
    """A stored file name that says nothing of the uploader's: ``<uuid>.<extension>``."""
    return f"{uuid.uuid4().hex}.{EXTENSIONS.get(content_type, 'bin')}"


def stored_path(kind: Kind, content_type: str) -> str:
    """The path under MEDIA_ROOT for a new file of this kind (``upload_to`` of the models)."""
    return f"{kind.folder}/{random_name(content_type)}"


class StoredFile(File):
    """A file with its stored name always set (a plain ``File``'s name may be None)."""

    name: str


def as_stored(checked: Checked) -> StoredFile:
    """The checked upload, rewound, named randomly for a FileField to save."""
    checked.file.seek(0)
    return StoredFile(checked.file, name=random_name(checked.content_type))


# --------------------------------------------------------------------------- serving


def download_name(original: str, content_type: str) -> str:
    """The name a browser saves the file as: the uploader's stem with the extension of the
    sniffed type, so a PNG uploaded as ``x.html`` is saved as ``x.png``."""
    stem = clean_name(original).rsplit(".", 1)[0] or "file"
    return f"{stem}.{EXTENSIONS.get(content_type, 'bin')}"


def file_response(field_file: Any, content_type: str, original: str, *, download: bool) -> Any:
    """Serve a stored file to someone the caller has already checked may see it.

    Pictures are shown inline unless a download is asked for; PDFs and HEIC (which browsers
    do not show) are always downloads. The file never runs as a page: its sniffed type,
    nosniff, and a CSP that forbids scripts and sandboxes the document."""
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, ValueError) as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=content_type)
    inline = content_type in INLINE_TYPES and not download
    disposition = "inline" if inline else "attachment"
    name = download_name(original, content_type)
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = SERVE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


# --------------------------------------------------------------------------- upload limit


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Writes at most MAX_BYTES + 1 bytes of each uploaded file to disk and drops the rest,
    while the file still reports its full size: an oversized upload is refused by `check`
    with a clear message and never fills the disk."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.written = 0
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        room = MAX_BYTES + 1 - self.written
        if room > 0:
            part = raw_data[:room]
            self.file.write(part)
            self.written += len(part)
        return None

    def file_complete(self, file_size: int) -> Any:
        self.file.seek(0)
        self.file.size = self.received
        return self.file


# --------------------------------------------------------------------------- import files


TEMP_MAX_AGE = 2 * 3600  # seconds an uploaded import file is kept for its commit
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def temp_storage() -> Storage:
    """Where import files wait for their job and commit: STORAGES["import_tmp"] when the
    deployment defines one (shared by every web node), else a folder under the var dir."""
    try:
        return storages["import_tmp"]
    except Exception:  # noqa: BLE001 - InvalidStorageError: not configured
        return FileSystemStorage(location=settings.VAR_DIR / "import-tmp")


def _temp_name(owner_id: int, sha256: str) -> str:
    return f"{int(owner_id)}/{sha256}.bin"


def stash(owner_id: int, data: bytes) -> str:
    """Keep an import file for its owner; returns its SHA-256. Old files are swept first."""
    storage = temp_storage()
    _sweep(storage)
    sha256 = sha256_of(data)
    name = _temp_name(owner_id, sha256)
    if not storage.exists(name):
        storage.save(name, ContentFile(data))
    return sha256


def load(owner_id: int, sha256: str) -> bytes | None:
    """The owner's stashed file with this hash, if it is there, recent and intact."""
    if not _SHA_RE.match(sha256 or ""):
        return None
    storage = temp_storage()
    name = _temp_name(owner_id, sha256)
    try:
        if not storage.exists(name):
            return None
        if time.time() - storage.get_modified_time(name).timestamp() > TEMP_MAX_AGE:
            storage.delete(name)
            return None
        with storage.open(name, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return data if sha256_of(data) == sha256 else None


def discard(owner_id: int, sha256: str) -> None:
    if _SHA_RE.match(sha256 or ""):
        temp_storage().delete(_temp_name(owner_id, sha256))


def _sweep(storage: Storage) -> None:
    """Delete stashed files older than TEMP_MAX_AGE (best effort)."""
    now = time.time()
    try:
        folders, _files = storage.listdir("")
        for folder in folders:
            for name in storage.listdir(folder)[1]:
                path = f"{folder}/{name}"
                if now - storage.get_modified_time(path).timestamp() > TEMP_MAX_AGE:
                    storage.delete(path)
    except (OSError, NotImplementedError):
        return


def check_all(files: Iterable[Any], kind: Kind) -> list[Checked]:
    """`check` each file, with its position in the details of a refusal."""
    return [check(file, kind, index=index) for index, file in enumerate(files)]
