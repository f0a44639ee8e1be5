"""Who may decide a step: its approvers, the holders of a role step, and their delegates.

The request types add their own part (the request pending, its participants excluded)
and ask here for the rest, so every request type answers it the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Q
from django.utils import timezone

from ztk.org.rules import is_hr, is_superuser

from . import routing
from .models import Delegation


def delegators_of(user: Any, day: date | None = None) -> set[int]:
    """Ids of the approvers `user` stands in for on `day` (default today): whose delegation
    to `user` is in force, or to someone away who delegated on to `user` (the reach
    ``routing.deciders_for`` gives an away approver's delegates)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    day = day or timezone.localdate()
    found: set[int] = set()
    frontier = {user.pk}
    while frontier:
        approvers = set(
            Delegation.objects.filter(
                delegate_id__in=frontier, start__lte=day, end__gte=day
            ).values_list("approver_id", flat=True)
        )
        frontier = approvers - found - {user.pk}
        found |= frontier
    return found


def may_decide(user: Any, kind: str, approvers: Iterable[int], day: date | None = None) -> bool:
    """May `user` (not a participant: the caller checks) decide a step of `kind` naming
    `approvers`? The approvers — on a role step instead whoever holds the role now: any HR
    admin on an HR step, any superuser on a step that fell back to superusers, either on a
    flagged step — and anyone a delegation in force reaches from one of the approvers."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    named = set(approvers)
    if kind in routing.ROLE_KINDS:  # whoever holds the role now, not the stored snapshot
        if kind in (routing.HR, routing.OVERSIGHT) and is_hr(user):
            return True
        if kind in (routing.SUPERUSER, routing.OVERSIGHT) and is_superuser(user):
            return True
    elif user.pk in named:
        return True
    return bool(named & delegators_of(user, day))


def waiting_q(user: Any, day: date | None = None) -> Q:
    """The steps `user` may decide, as a filter on a request type's ``current_approvers``
    and ``current_kind`` (the caller adds "pending" and "not a participant")."""
    query = Q(current_approvers=user) & ~Q(current_kind__in=routing.ROLE_KINDS)
    delegators = delegators_of(user, day)
    if delegators:
        query |= Q(current_approvers__in=delegators)
    if is_hr(user):
        query |= Q(current_kind__in=(routing.HR, routing.OVERSIGHT))
    if is_superuser(user):
        query |= Q(current_kind__in=(routing.SUPERUSER, routing.OVERSIGHT))
    return query
