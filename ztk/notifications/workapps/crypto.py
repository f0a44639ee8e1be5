"""The callbacks' signatures and encryption, from each platform's public documentation.

* WeCom (企业微信 回调, "WXBizMsgCrypt") and DingTalk (HTTP 事件订阅): the AES key is
  ``base64(EncodingAESKey + "=")`` (32 bytes), the IV its first 16 bytes, AES-256-CBC with
  PKCS#7 padding to 32 bytes; the plain text is 16 random bytes, the message length
  (4 bytes, big-endian), the message, then the receiver id (the corp id, or DingTalk's
  app key). The signature is ``sha1("".join(sorted([token, timestamp, nonce, encrypt])))``
  in hex.
* Feishu (事件订阅 / 卡片回调): with an Encrypt Key the body is ``{"encrypt": …}``,
  base64 of a 16-byte IV followed by AES-256-CBC (key ``sha256(encrypt_key)``, PKCS#7) of
  the JSON; ``X-Lark-Signature`` is ``sha256(timestamp + nonce + encrypt_key + body)`` in
  hex.

Pure functions, no Django: every failure is a `CryptoError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class CryptoError(ValueError):
    """A body that does not decrypt or whose receiver id is not ours."""


def sha1_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("the AES key is not valid base64") from None
    if len(key) != 32:
        raise CryptoError("the AES key must be 43 characters (32 bytes)")
    return key


def _pad(data: bytes, block: int) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def _unpad(data: bytes, block: int) -> bytes:
    if not data:
        raise CryptoError("empty message")
    n = data[-1]
    if not 1 <= n <= block or data[-n:] != bytes([n]) * n:
        raise CryptoError("bad padding")
    return data[:-n]


def _cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    if not encrypt and (not data or len(data) % 16):
        raise CryptoError("the message is not whole AES blocks")
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


def wx_encrypt(encoding_aes_key: str, message: bytes, receive_id: str, *, rand: bytes = b"") -> str:
    """WeCom / DingTalk: encrypt a reply (or, in tests, a platform's callback)."""
    key = _aes_key(encoding_aes_key)
    plain = (rand or os.urandom(16)) + struct.pack(">I", len(message)) + message
    plain += receive_id.encode()
    return base64.b64encode(_cbc(key, key[:16], _pad(plain, 32), encrypt=True)).decode()


def wx_decrypt(encoding_aes_key: str, encrypt: str, receive_id: str) -> bytes:
    """WeCom / DingTalk: the message inside `encrypt`; its receiver id must be ours."""
    key = _aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypt, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("the message is not base64") from None
    plain = _unpad(_cbc(key, key[:16], data, encrypt=False), 32)
    if len(plain) < 20:
        raise CryptoError("message too short")
    (length,) = struct.unpack(">I", plain[16:20])
    message, tail = plain[20 : 20 + length], plain[20 + length :]
    if len(message) != length:
        raise CryptoError("bad message length")
    if not same(tail.decode(errors="replace"), receive_id):
        raise CryptoError("the message is for another receiver")
    return message


def lark_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def lark_encrypt(encrypt_key: str, message: bytes, *, iv: bytes = b"") -> str:
    """Feishu: what the platform sends (tests); the reverse of `lark_decrypt`."""
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = iv or os.urandom(16)
    return base64.b64encode(iv + _cbc(key, iv, _pad(message, 16), encrypt=True)).decode()


def lark_decrypt(encrypt_key: str, encrypt: str) -> bytes:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    try:
        data = base64.b64decode(encrypt, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("the message is not base64") from None
    if len(data) < 32:
        raise CryptoError("message too short")
    return _unpad(_cbc(key, data[:16], data[16:], encrypt=False), 16)


def random_nonce() -> str:
    return base64.b32encode(os.urandom(10)).decode().lower()
