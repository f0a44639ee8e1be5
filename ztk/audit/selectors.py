"""Reading and verifying the chain."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from .chain import event_hash
from .models import GENESIS_HASH, AuditChainHead, AuditEvent


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""


def audit_verify(*, batch_size: int = 2000) -> VerificationResult:
    """Walk the chain in sequence order; report the first event that does not fit."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    qs = AuditEvent.objects.order_by("seq").values_list(
        "seq",
        "at",
        "actor_id",
        "actor_label",
        "ip",
        "user_agent",
        "action",
        "object_type",
        "object_id",
        "changes",
        "prev_hash",
        "hash",
    )
    for row in qs.iterator(chunk_size=batch_size):
        seq, at, actor_id, label, ip, ua, action, otype, oid, changes, prev, digest = row
        if seq != expected_seq:
            return VerificationResult(
                False, checked, expected_seq, f"event {expected_seq} is missing"
            )
        if prev != expected_prev:
            return VerificationResult(
                False, checked, seq, "previous hash does not match the event before it"
            )
        recomputed = event_hash(
            prev_hash=prev,
            seq=seq,
            at=at,
            actor_id=actor_id,
            actor_label=label,
            ip=ip,
            user_agent=ua,
            action=action,
            object_type=otype,
            object_id=oid,
            changes=changes,
        )
        if recomputed != digest:
            return VerificationResult(False, checked, seq, "content does not match its hash")
        expected_prev = digest
        expected_seq += 1
        checked += 1
        last_seq = seq
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and head.seq != last_seq:
        return VerificationResult(
            False, checked, last_seq + 1, f"events after {last_seq} are missing (head {head.seq})"
        )
    return VerificationResult(True, checked)


def audit_events(
    *,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from=None,
    date_to=None,
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all().order_by("-seq")
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs


def audit_head_mismatch(seq: int, digest: str) -> str:
    """Why an exported head (``seq`` and ``hash`` of an event, kept outside the database)
    no longer appears in the chain, or "" when it does. A chain rewritten and re-hashed
    from before that event verifies on its own; this is what notices it."""
    found = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if found is None:
        last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        return (
            f"the chain has no event {seq}; it ends at event {last} (events were removed, or "
            "the head was exported from another installation)"
        )
    if found != digest.lower():
        return (
            f"event {seq} now has hash {found}: the chain was rewritten at or before event "
            f"{seq} since the head was exported"
        )
    return ""
