"""Canonical form and hashing of audit events — shared by the writer and the verifier."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Normalise to what JSON (and the database's JSON column) gives back unchanged."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    ip: str | None,
    user_agent: str,
    action: str,
    object_type: str,
    object_id: str,
    changes: Any,
) -> str:
    body = {
        "seq": seq,
        "at": canonical_time(at),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "ip": ip,
        "user_agent": user_agent,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "changes": changes,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()
