"""The one door into the audit log: `record(...)`, called inside the service's transaction."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from ztk.core.context import get_request_info

from .chain import event_hash, to_jsonable
from .models import AuditChainHead, AuditEvent


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "" if actor is None else "anonymous"
    return actor.pk, actor.get_username()


def record(
    action: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    before: Any = None,
    after: Any = None,
    extra: dict[str, Any] | None = None,
    actor: Any = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the caller's atomic block so both commit or neither."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must be called inside transaction.atomic()")
    info = get_request_info()
    if actor is None:
        actor = info.user
    actor_id, actor_label = _actor_fields(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    changes: dict[str, Any] = {}
    if before is not None:
        changes["before"] = before
    if after is not None:
        changes["after"] = after
    if extra:
        changes.update(extra)
    changes = to_jsonable(changes)
    ip = ip if ip is not None else info.ip
    user_agent = (user_agent if user_agent is not None else info.user_agent)[:400]

    head, _created = AuditChainHead.objects.select_for_update().get_or_create(id=1)
    seq = head.seq + 1
    at = timezone.now()
    digest = event_hash(
        prev_hash=head.hash,
        seq=seq,
        at=at,
        actor_id=actor_id,
        actor_label=actor_label,
        ip=ip,
        user_agent=user_agent,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=changes,
    )
    event = AuditEvent.objects.create(
        seq=seq,
        at=at,
        actor_id=actor_id,
        actor_label=actor_label,
        ip=ip,
        user_agent=user_agent,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=changes,
        prev_hash=head.hash,
        hash=digest,
    )
    head.seq, head.hash = seq, digest
    head.save(update_fields=["seq", "hash"])
    return event


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-ready dict of a model's concrete fields, for before/after records."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        data[field.attname] = field.value_from_object(obj)
    return to_jsonable(data)
