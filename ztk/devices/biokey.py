"""The key that encrypts biometric templates at rest, kept outside the database.

Templates (fingerprint, face, palm) are sensitive personal information under China's
PIPL: the database holds only AES-256-GCM ciphertext, and the key lives in the
environment (`ZTK_BIOMETRIC_KEY`, 32 bytes as URL-safe base64) or in a file created once
beside the secret key (`<ZTK_VAR_DIR>/biometric_key`, mode 0600). A database dump or a
backup of the database alone therefore reveals no template; losing the key loses the
templates (the terminals still have theirs and can upload them again).

Each ciphertext is bound to its row's identity (employee, kind, index) as associated
data, so ciphertext copied onto another person's row does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

ENV_NAME = "ZTK_BIOMETRIC_KEY"
FILE_NAME = "biometric_key"
VERSION = b"v1"
NONCE_BYTES = 12

_lock = threading.Lock()
_cache: dict[str, bytes] = {}


class BiometricKeyError(Exception):
    """The key is missing, malformed, or does not open this ciphertext."""


def key_path() -> Path:
    return Path(settings.VAR_DIR) / FILE_NAME


def _decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii") + b"==")
    except (ValueError, UnicodeEncodeError):
        raise BiometricKeyError("the biometric key is not base64") from None
    if len(key) != 32:
        raise BiometricKeyError("the biometric key must be 32 bytes (256 bits)")
    return key


def _load() -> bytes:
    text = os.environ.get(ENV_NAME, "")
    if text:
        return _decode_key(text)
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(fresh + "\n")
    return _decode_key(path.read_text())


def key() -> bytes:
    """The 32-byte key (created on first use when neither the variable nor the file exists)."""
    source = os.environ.get(ENV_NAME) or str(key_path())
    with _lock:
        if source not in _cache:
            _cache[source] = _load()
        return _cache[source]


def _aad(context: str) -> bytes:
    return VERSION + b"|" + context.encode("utf-8")


def encrypt(data: bytes, context: str) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key()).encrypt(nonce, data, _aad(context))


def decrypt(blob: bytes, context: str) -> bytes:
    blob = bytes(blob)
    if not blob.startswith(VERSION) or len(blob) < len(VERSION) + NONCE_BYTES + 16:
        raise BiometricKeyError("not a biometric ciphertext")
    nonce = blob[len(VERSION) : len(VERSION) + NONCE_BYTES]
    try:
        return AESGCM(key()).decrypt(nonce, blob[len(VERSION) + NONCE_BYTES :], _aad(context))
    except InvalidTag:
        raise BiometricKeyError("the biometric key does not open this template") from None


def digest(data: bytes) -> str:
    """A keyed fingerprint of a template, to notice re-uploads without storing a plain hash
    (a plain SHA-256 of a template would itself identify the person across systems)."""
    return hmac.new(key(), b"digest|" + data, hashlib.sha256).hexdigest()
