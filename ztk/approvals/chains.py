"""Chains (reads, no writes): who approves each step of a request, resolved now.

A request type names its configured steps — (approver kind, named user, deadline in
working days) — and the machinery resolves them for one employee: the approvers of each
kind, the skip rules, and the fallback of a step nobody can decide (``routing``). The
result is the snapshot stored on the request (``chain``: one dict per step).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from ztk.org.models import Employee
from ztk.org.roles import HR

from . import routing
from .models import DEFAULT_DEADLINE_WORKING_DAYS, ApproverKind, Delegation

User = get_user_model()

# A configured step: (approver kind, named user for the kind "user", deadline in working days).
ConfiguredStep = tuple[str, int | None, int]

SKIP_REASONS = {
    "applicant": _("The approver of this step is the applicant."),
    "duplicate": _("HR already approves at an earlier step."),
}
# Why a step fell back (routing's reasons) and to whom: the routing form and the trail.
FALLBACK_REASONS = {
    routing.MISSING: _("Nobody holds this approver's role (no supervisor or HR admin)."),
    routing.INACTIVE: _("The approver has left or their account is deactivated."),
    routing.APPLICANT: _("The only approver is the applicant or the employee."),
    routing.AWAY: _("The approver is away and the delegation leads back to the applicant."),
}
FALLBACK_TO = {
    routing.HR: _("Another HR admin decides."),
    routing.SUPERUSER: _("No other HR admin: a superuser decides."),
    routing.OVERSIGHT: _(
        "Nobody else can decide: the request waits on the oversight page for an HR admin "
        "or a superuser."
    ),
}

# Approver kinds that stand for HR's check: a later HR step after one of them is a duplicate.
HR_LIKE = (ApproverKind.HR, routing.SUPERUSER, routing.OVERSIGHT)


def display_name(user: Any) -> str:
    """The employee's name of an account, else its user name."""
    try:
        return user.employee.name
    except Exception:  # noqa: BLE001 - an account without an employee record
        return user.get_username()


def names(ids: Iterable[int]) -> dict[int, str]:
    return {
        u.pk: display_name(u)
        for u in User.objects.filter(pk__in=set(ids)).select_related("employee")
    }


def fallback_text(step: dict[str, Any]) -> str:
    """Why a step fell back and to whom, as the routing form and the trail say it."""
    if not step.get("fallback"):
        return ""
    why = FALLBACK_REASONS.get(step.get("fallback_reason", ""), FALLBACK_REASONS["missing"])
    to = FALLBACK_TO.get(step.get("fallback_to", ""), FALLBACK_TO["hr"])
    return f"{why} {to}"


def next_step(chain: Sequence[dict[str, Any]], after: int | None) -> dict[str, Any] | None:
    """The first step after position `after` (None: the first) that is not skipped."""
    for step in chain:
        if step.get("skipped"):
            continue
        if after is None or step["position"] > after:
            return step
    return None


def approvers_of(kind: str, user_id: int | None, employee: Employee) -> list[int]:
    """The users a configured step names for `employee` (empty: nobody holds the role).

    Whether they can decide (present, not the applicant, not away) is routing's question.
    """
    if kind == ApproverKind.SUPERVISOR:
        boss = employee.supervisor
        if boss is not None and boss.pk != employee.pk:
            return [boss.user_id]
        return []
    if kind == ApproverKind.DEPARTMENT_HEAD:
        department = employee.department
        chain = [department, *department.ancestors()] if department is not None else []
        for dept in chain:  # a vacant head (or the employee heading it) → walk up
            head = dept.head
            if head is not None and head.active and head.pk != employee.pk:
                return [head.user_id]
        return []
    if kind == ApproverKind.USER:
        return [user_id] if user_id is not None else []
    return []


class OrgFacts:
    """The organisation as routing sees it on one day: HR admins, superusers, delegations
    in force and who is present — read once for a submission or a sweep."""

    def __init__(self, day: date, extra_ids: Iterable[int] = ()) -> None:
        self.day = day
        self.hr = tuple(
            User.objects.filter(groups__name=HR, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
            .distinct()
        )
        self.superusers = tuple(
            User.objects.filter(is_superuser=True, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        delegations: dict[int, set[int]] = {}
        for approver, delegate in Delegation.objects.filter(
            start__lte=day, end__gte=day
        ).values_list("approver_id", "delegate_id"):
            delegations.setdefault(approver, set()).add(delegate)
        self.delegations = {k: frozenset(v) for k, v in delegations.items()}
        self._present: set[int] = set()
        self._known: set[int] = set()
        known = {*self.hr, *self.superusers, *extra_ids}
        for approver, delegates in self.delegations.items():
            known |= {approver, *delegates}
        self._learn(known)

    @classmethod
    def for_chain(cls, chain: Sequence[dict[str, Any]], day: date) -> OrgFacts:
        return cls(day, [uid for step in chain for uid in step.get("approvers", [])])

    def _learn(self, ids: Iterable[int]) -> None:
        """Which of these accounts may act: active, their employee (if any) active and not
        past the leave date."""
        new = {i for i in ids if i is not None} - self._known
        if not new:
            return
        self._known |= new
        self._present |= set(
            User.objects.filter(pk__in=new, is_active=True)
            .exclude(employee__active=False)
            .exclude(employee__leave_date__lt=self.day)
            .values_list("pk", flat=True)
        )

    def people(self, participants: Iterable[int], approvers: Iterable[int] = ()) -> routing.People:
        self._learn([*participants, *approvers])
        return routing.People(
            participants=frozenset(participants),
            present=frozenset(self._present),
            hr=self.hr,
            superusers=self.superusers,
            delegations=self.delegations,
        )


def step_dict(
    position: int, configured: str, deadline: int, route: routing.Route | None, skip: str = ""
) -> dict[str, Any]:
    return {
        "position": position,
        "kind": str(route.kind if route else configured),
        "configured": str(configured),
        "approvers": list(route.approvers) if route else [],
        "deadline_working_days": deadline,
        "skipped": bool(skip),
        "skip_reason": skip,
        "fallback": bool(route and route.fell_back),
        "fallback_reason": route.reason if route else "",
        "fallback_to": route.to if route else "",
    }


def resolve_chain(
    *,
    configured: Sequence[ConfiguredStep],
    employee: Employee,
    applicant: Any,
    on_behalf: bool,
    day: date,
) -> list[dict[str, Any]]:
    """The chain snapshot stored on a request: who approves each configured step, resolved
    on `day` (the employee's today).

    - A step is skipped when the applicant filing on the employee's behalf is its approver
      (a supervisor filing for a report; HR filing when no other HR admin can decide), and
      an HR step after a step that already stands for HR is skipped as a duplicate.
    - Any other step whose approvers cannot decide it (vacant, departed, the applicant or
      the employee themselves, away with the delegation leading back) falls back to another
      HR admin, else a superuser, else it is flagged for the oversight page
      (``routing.route_step``). Nobody ever approves their own request.
    - When every step is skipped, HR approves (a last HR step is added, with the same
      fallback) — unless HR filed it on the employee's behalf, which is then final (HR has
      the last word; the request is approved at once).
    """
    named = {kind_user: approvers_of(kind_user[0], kind_user[1], employee) for kind_user in
             {(kind, user_id) for kind, user_id, _deadline in configured}}  # fmt: skip
    facts = OrgFacts(day, [uid for ids in named.values() for uid in ids])
    people = facts.people({applicant.pk, employee.user_id})
    applicant_is_hr = applicant.pk in facts.hr
    steps: list[dict[str, Any]] = []
    for position, (kind, user_id, deadline) in enumerate(configured, start=1):
        approvers = named[(kind, user_id)]
        skip = ""
        if kind == ApproverKind.HR:
            if any(s["kind"] in HR_LIKE and not s["skipped"] for s in steps):
                skip = "duplicate"  # HR approves once
            elif on_behalf and applicant_is_hr and not routing.step_deciders(kind, [], people)[0]:
                skip = "applicant"
        elif on_behalf and approvers == [applicant.pk]:
            skip = "applicant"
        route = None if skip else routing.route_step(kind, approvers, people)
        steps.append(step_dict(position, kind, deadline, route, skip))
    if all(s["skipped"] for s in steps) and not (on_behalf and applicant_is_hr):
        route = routing.route_step(ApproverKind.HR, [], people)
        steps.append(
            step_dict(len(steps) + 1, "", DEFAULT_DEADLINE_WORKING_DAYS[ApproverKind.HR], route)
        )
        steps[-1]["configured"] = ""
    known = names(uid for s in steps for uid in s["approvers"])
    for step in steps:
        step["names"] = [known.get(uid, str(uid)) for uid in step["approvers"]]
    return steps
