"""Writes of the approval machinery, for any registered request type (``registry``).

The request type's service opens the transaction, locks the request and checks who may
act; these functions move the route — enter a step, advance, re-route a step nobody can
decide, transfer it, end it — and write the trail through the type's adapter and the
audit log. Delegations and the overdue reminders are the machinery's own services.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.notifications.services import notify
from ztk.notifications.workapps.services import STEP_APPROVED, TRANSFERRED, cards_settled
from ztk.org.roles import HR
from ztk.org.rules import is_hr, is_sysadmin
from ztk.scheduling.selectors import working_days_between

from . import routing
from .chains import OrgFacts, display_name, fallback_text, names, next_step
from .models import ActionKind, ApproverKind, Delegation
from .registry import Decidable, registered
from .sla import step_deadline

log = logging.getLogger(__name__)
User = get_user_model()

BAD_DELEGATION = "bad_delegation"
DELEGATION_OVER = "delegation_over"
MESSAGES = {
    BAD_DELEGATION: _("The delegation is not valid: %(why)s"),
    DELEGATION_OVER: _("This delegation has already ended."),
}
MAX_DELEGATION_DAYS = 366


def hr_users() -> list[Any]:
    return list(User.objects.filter(groups__name=HR, is_active=True).order_by("pk").distinct())


def users(ids: Iterable[int]) -> list[Any]:
    return list(User.objects.filter(pk__in=list(ids), is_active=True).order_by("pk"))


def step_recipients(step: dict[str, Any] | None) -> list[Any]:
    """Who hears that a step waits: its approvers, and every HR user when HR decides it
    (whoever of them takes it). Every request type tells its approvers through this."""
    step = step or {}
    people = users(step.get("approvers", []))
    if step.get("kind") == ApproverKind.HR:
        people = [*people, *hr_users()]
    return people


def notify_about_request(
    kind: str,
    recipients: Iterable[Any],
    *,
    employee: Any,
    title: Any,
    body: Any,
    params: dict[str, Any],
    url: str,
    data: dict[str, Any],
    suffix: str = "",
) -> None:
    """Tell `recipients` (None left out) about a request of `employee`: the message goes to
    the department's channels too. Every request type's notices go through here."""
    people = [u for u in recipients if u is not None]
    if not people:
        return
    notify(
        kind=kind,
        recipients=people,
        title=title,
        body=body,
        params=params,
        suffix=suffix,
        url=url,
        data={**data, "employee": employee.employee_no},
        department=employee.department,
    )


def today_for(d: Decidable, req: Any, now: datetime) -> date:
    return now.astimezone(d.zone(req)).date()


# --------------------------------------------------------------------------- the route


def enter_step(req: Any, step: dict[str, Any] | None, now: datetime) -> None:
    """Make `step` the current one (None: no step any more); the caller saves."""
    if step is None:
        req.current_step, req.current_kind, req.step_started_at = None, "", None
        req.current_approvers.clear()
        return
    req.current_step = step["position"]
    req.current_kind = step["kind"]
    req.step_started_at = now
    req.current_approvers.set(step["approvers"])


def enter_first_step(req: Any, now: datetime) -> dict[str, Any] | None:
    """Enter the first step that is not skipped; None when every step was skipped."""
    first = next_step(req.chain, None)
    enter_step(req, first, now)
    req.save(update_fields=["chain", "current_step", "current_kind", "step_started_at"])
    return first


def end_route(
    req: Any, status: str, actor: Any, now: datetime, extra_fields: Sequence[str] = ()
) -> None:
    """End the request's route in `status` (approved, rejected, withdrawn or cancelled).

    Every decision of every request type ends here, so this is where the approval cards
    already sent to its approvers are changed to the outcome (``cards_settled``, after
    the commit)."""
    req.status = status
    req.decided_at, req.decided_by = now, actor
    enter_step(req, None, now)
    req.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            *extra_fields,
            "current_step",
            "current_kind",
            "step_started_at",
        ]
    )
    cards_settled(request=req, state=status, name=display_name(actor) if actor else "", at=now)


def advance(d: Decidable, req: Any, now: datetime, actor: Any = None) -> dict[str, Any] | None:
    """After the current step was approved (by `actor`): enter the next step (re-routed
    when nobody can decide it any more) and return it, or None when that was the last step
    (the caller finishes the approval with `end_route` and notifies). The cards of the
    step just approved say so (``cards_settled``); the next step's approvers get new ones."""
    following = next_step(req.chain, req.current_step)
    if following is not None:
        cards_settled(
            request=req,
            state=STEP_APPROVED,
            name=display_name(actor) if actor else "",
            at=now,
        )
        enter_step(req, following, now)
        req.save(update_fields=["current_step", "current_kind", "step_started_at"])
        # The chain was resolved at submission; whoever left since is routed around.
        facts = OrgFacts.for_chain(req.chain, today_for(d, req, now))
        reroute_if_stuck(d, req, facts, now)
    return following


def record_chain(d: Decidable, req: Any, actor: Any, skip_reasons: dict[str, Any]) -> None:
    """The trail of a new request's chain: each skipped step and each fallback."""
    for step in req.chain:
        if step["skipped"]:
            d.record_action(
                req,
                ActionKind.SKIP,
                actor,
                step=step["position"],
                comment=str(skip_reasons.get(step["skip_reason"], "")),
            )
        elif step["fallback"]:
            d.record_action(
                req, ActionKind.REROUTE, None, step=step["position"], comment=fallback_text(step)
            )


def reroute_if_stuck(
    d: Decidable, req: Any, facts: OrgFacts, now: datetime, actor: Any = None
) -> bool:
    """Re-route the current step when nobody can decide it any more (the approver left or
    was deactivated, went away with a delegation leading back, lost the HR role …), or
    when a flagged step now has someone to decide it. Inside the caller's transaction, with
    `req` locked; recorded on the trail and in the audit log. The caller notifies."""
    step = req.step()
    if not req.is_pending or step is None:
        return False
    people = facts.people(d.participants(req), step.get("approvers", []))
    route = routing.route_step(step["kind"], step.get("approvers", []), people)
    if not route.fell_back or (step["kind"] == routing.OVERSIGHT and route.flagged):
        return False
    reason = route.reason or step.get("fallback_reason", "") or routing.MISSING
    before = {"kind": step["kind"], "approvers": list(step.get("approvers", []))}
    chain = [dict(s) for s in req.chain]
    current = next(s for s in chain if s["position"] == req.current_step)
    current.update(
        kind=route.kind,
        approvers=list(route.approvers),
        names=[names(route.approvers).get(uid, str(uid)) for uid in route.approvers],
        fallback=True,
        fallback_reason=reason,
        fallback_to=route.to,
        rerouted_from=before["approvers"],
    )
    req.chain = chain
    req.current_kind = route.kind
    req.step_started_at = now
    req.overdue_notified_step = None
    req.current_approvers.set(route.approvers)
    req.save(update_fields=["chain", "current_kind", "step_started_at", "overdue_notified_step"])
    d.record_action(
        req, ActionKind.REROUTE, actor, step=req.current_step, comment=fallback_text(current)
    )
    record(
        f"{d.audit_prefix}.reroute",
        obj=req,
        actor=actor,
        before=before,
        after={"kind": route.kind, "approvers": list(route.approvers)},
        extra={"step": req.current_step, "reason": reason, "to": route.to},
    )
    return True


def reroute(
    d: Decidable, *, user_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Re-route every pending request of one type nobody can decide any more (system
    action). `user_ids`: only the requests whose current step names one of them."""
    now = now or timezone.now()
    qs = d.pending().filter(current_step__isnull=False)
    if user_ids is not None:
        qs = qs.filter(current_approvers__in=list(user_ids))
    pks = list(qs.values_list("pk", flat=True).distinct().order_by("pk"))
    facts_by_day: dict[date, OrgFacts] = {}
    moved = 0
    for pk in pks:
        with transaction.atomic():
            req = d.lock(pk)
            day = today_for(d, req, now)
            if day not in facts_by_day:
                facts_by_day[day] = OrgFacts(day)
            if reroute_if_stuck(d, req, facts_by_day[day], now):
                d.notify_approvers(req)
                moved += 1
    return moved


def reroute_all(*, user_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """``reroute`` for every registered request type (the sweep, the org-change signals)."""
    ids = list(user_ids) if user_ids is not None else None
    return sum(reroute(d, user_ids=ids, now=now) for d in registered())


def transfer_step(req: Any, actor: Any, to_user: Any, now: datetime) -> None:
    """Hand the current step to `to_user` (who may take it: the caller checks); the step
    becomes a named-user step that starts now."""
    chain = [dict(s) for s in req.chain]
    current = None
    for step in chain:
        if step["position"] == req.current_step:
            step.update(
                kind=str(ApproverKind.USER),
                approvers=[to_user.pk],
                names=[display_name(to_user)],
                transferred_from=actor.pk,
            )
            current = step
    req.chain = chain
    enter_step(req, current, now)
    req.save(update_fields=["chain", "current_step", "current_kind", "step_started_at"])
    cards_settled(request=req, state=TRANSFERRED, name=display_name(to_user), at=now)


# --------------------------------------------------------------------------- delegation


def delegation_create(
    *,
    actor: Any,
    approver: Any,
    delegate: Any,
    start: date,
    end: date,
    reason: str = "",
) -> Delegation:
    """Let `delegate` act on `approver`'s steps of every request type from `start` to
    `end` (both inclusive). The approver sets up their own; HR may set one up for anyone."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDeniedError()
    if actor.pk != approver.pk and not (is_hr(actor) or is_sysadmin(actor)):
        raise PermissionDeniedError()
    why = None
    if delegate is None or not delegate.is_active:
        why = gettext("the delegate's account is not active")
    elif delegate.pk == approver.pk:
        why = gettext("the delegate must be someone else")
    elif end < start:
        why = gettext("the end is before the start")
    elif (end - start).days > MAX_DELEGATION_DAYS:
        why = gettext("a delegation lasts at most a year")
    if why:
        raise DomainError(BAD_DELEGATION, MESSAGES[BAD_DELEGATION] % {"why": why})
    with transaction.atomic():
        delegation = Delegation.objects.create(
            approver=approver,
            delegate=delegate,
            start=start,
            end=end,
            reason=clean_text(reason, field="reason", label=_("Reason"), multiline=True)[:200],
            created_by=actor,
        )
        record(
            "corrections.delegation.create",  # the audit name from before the move
            obj=delegation,
            actor=actor,
            after={
                "approver_id": approver.pk,
                "delegate_id": delegate.pk,
                "start": start,
                "end": end,
                "reason": delegation.reason,
            },
        )
        _notify_delegate(delegation)
        # The approver is away from now on: their waiting steps may have nobody left.
        reroute_all(user_ids={approver.pk})
    return delegation


def delegation_cancel(*, actor: Any, delegation: Delegation, today: date | None = None) -> None:
    """End a delegation now: one that has not started is removed, one in force ends
    yesterday (what the delegate decided stays theirs). The approver ends their own; HR
    may end anyone's. Audited (``corrections.delegation.cancel``, the create's family)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDeniedError()
    if actor.pk != delegation.approver_id and not (is_hr(actor) or is_sysadmin(actor)):
        raise PermissionDeniedError()
    today = today or timezone.localdate()
    with transaction.atomic():
        row = Delegation.objects.select_for_update().filter(pk=delegation.pk).first()
        if row is None or row.end < today:
            raise DomainError(DELEGATION_OVER, MESSAGES[DELEGATION_OVER])
        before = {"start": row.start, "end": row.end}
        pk = row.pk
        if row.start >= today:
            row.delete()
            after = None
        else:
            row.end = today - timedelta(days=1)
            row.save(update_fields=["end"])
            after = {"start": row.start, "end": row.end}
        record(
            "corrections.delegation.cancel",
            object_type="approvals.delegation",
            object_id=pk,
            actor=actor,
            before=before,
            after=after,
            extra={"approver_id": delegation.approver_id, "delegate_id": delegation.delegate_id},
        )


def _notify_delegate(delegation: Delegation) -> None:
    """Tell the delegate, in their own language (``notify`` renders every language)."""
    notify(
        kind="correction_delegation",
        recipients=[delegation.delegate],
        title=_("You approve corrections for %(name)s"),
        body=_("From %(start)s to %(end)s you may approve correction requests for %(name)s."),
        params={
            "name": display_name(delegation.approver),
            "start": delegation.start.isoformat(),
            "end": delegation.end.isoformat(),
        },
        data={"delegation_id": delegation.pk},
    )


# --------------------------------------------------------------------------- reminders


def notify_overdue(d: Decidable, *, now: datetime | None = None) -> int:
    """Notify the approvers and HR of every step of one type past its deadline, once per
    step (the request remembers the step it was reminded of)."""
    now = now or timezone.now()
    candidates = list(
        d.pending()
        .filter(current_step__isnull=False, step_started_at__isnull=False)
        .filter(Q(overdue_notified_step__isnull=True) | ~Q(overdue_notified_step=F("current_step")))
        .order_by("pk")
    )
    if not candidates:
        return 0
    earliest = min(r.step_started_at for r in candidates).date() - timedelta(days=1)
    work = working_days_between(earliest, now.date() + timedelta(days=1))
    hr_people = hr_users()
    count = 0
    for req in candidates:
        step = req.step() or {}
        tz = d.zone(req)
        deadline = step_deadline(
            req.step_started_at, int(step.get("deadline_working_days") or 1), tz, work
        )
        if deadline is None or now < deadline:
            continue
        with transaction.atomic():
            locked = d.lock(req.pk)
            if not locked.is_pending or locked.current_step != req.current_step:
                continue
            locked.overdue_notified_step = locked.current_step
            locked.save(update_fields=["overdue_notified_step"])
            record(
                f"{d.audit_prefix}.overdue_notice",
                obj=locked,
                actor=None,
                before={"overdue_notified_step": req.overdue_notified_step},
                after={"overdue_notified_step": locked.current_step},
                extra={"deadline": deadline},
            )
            d.notify_overdue(locked, [*users(step.get("approvers", [])), *hr_people], deadline, tz)
            count += 1
    return count


def notify_overdue_all(*, now: datetime | None = None) -> int:
    return sum(notify_overdue(d, now=now) for d in registered())
