"""Who can decide an approval step, and where the step goes when nobody can (pure).

No request may ever be undecidable. A step's own approvers may be unable to decide it: the
role is vacant (no supervisor, no HR admin), the approver left or was deactivated, the only
approver is the applicant (an HR admin's own correction when they are the only HR admin),
or the approver is away and their delegation leads back to the applicant, in a circle or to
someone who left. The step then falls back — to another HR admin, else to a superuser, else
it is flagged for the oversight page (any HR admin or superuser who is not a participant
may decide it from then on; until one exists, literally nobody else can).

"Away" is having a delegation in force; an away approver decides through their delegates,
followed through further delegations (``ztk.approvals.rules.delegators_of`` gives the
same reach to the delegates). The participants — the employee and the applicant — never
decide their own request.

Plain values only (user ids), so the rule is property-tested without a database; the
services build ``People`` from the database and apply the ``Route``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Approver kinds a step may take besides the configured ones (ApproverKind).
HR = "hr"
SUPERUSER = "superuser"
OVERSIGHT = "oversight"  # flagged: nobody was found; any HR admin or superuser may decide
# Steps decided by whoever holds a role now (the stored approvers are only a snapshot).
ROLE_KINDS = (HR, SUPERUSER, OVERSIGHT)

# Why a step's own approvers cannot decide it (stable codes, shown and audited).
MISSING = "missing"
INACTIVE = "inactive"
APPLICANT = "applicant"
AWAY = "away"
REASONS = (MISSING, INACTIVE, APPLICANT, AWAY)


@dataclass(frozen=True)
class People:
    """What routing needs to know about the organisation, as user ids.

    ``present``: accounts that may act (active account; their employee, if any, active and
    not past the leave date). ``delegations``: approver → delegates, in force today.
    """

    participants: frozenset[int]
    present: frozenset[int]
    hr: tuple[int, ...] = ()
    superusers: tuple[int, ...] = ()
    delegations: Mapping[int, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """Where a step goes: its kind and approvers; ``reason`` and ``to`` when it fell back."""

    kind: str
    approvers: tuple[int, ...]
    reason: str = ""  # why the step's own approvers cannot decide ("" = they can)
    to: str = ""  # "" | hr | superuser | oversight

    @property
    def fell_back(self) -> bool:
        return bool(self.to)

    @property
    def flagged(self) -> bool:
        return self.kind == OVERSIGHT


def deciders_for(user_id: int, people: People) -> tuple[frozenset[int], str]:
    """Who decides in place of approver `user_id` now, and why nobody when empty.

    Present and not away: themselves. Away: every delegate reached through delegations
    in force who is present, not a participant and not away in turn.
    """
    if user_id in people.participants:
        return frozenset(), APPLICANT
    if user_id not in people.present:
        return frozenset(), INACTIVE
    if not people.delegations.get(user_id):
        return frozenset({user_id}), ""
    found: set[int] = set()
    seen = {user_id}
    frontier = [user_id]
    while frontier:
        following = []
        for approver in frontier:
            for delegate in sorted(people.delegations.get(approver, ())):
                if delegate in seen:
                    continue
                seen.add(delegate)
                if delegate in people.participants or delegate not in people.present:
                    continue
                if people.delegations.get(delegate):
                    following.append(delegate)
                else:
                    found.add(delegate)
        frontier = following
    return frozenset(found), "" if found else AWAY


def candidates(kind: str, approvers: Iterable[int], people: People) -> list[int]:
    """Who a step of `kind` names: its approvers, or — on a role step — whoever holds the
    role now (HR admins on an HR step, superusers on a superuser step, both on a flagged
    one), in a stable order."""
    if kind not in ROLE_KINDS:
        return list(dict.fromkeys(approvers))
    out = list(people.hr) if kind in (HR, OVERSIGHT) else []
    if kind in (SUPERUSER, OVERSIGHT):
        out += [u for u in people.superusers if u not in out]
    return out


def step_deciders(
    kind: str, approvers: Iterable[int], people: People
) -> tuple[frozenset[int], str]:
    """Everyone who can decide a step of `kind` with these approvers now; if nobody, why
    (the reason of the first candidate, or ``missing`` when there is none)."""
    found: set[int] = set()
    reasons = []
    for candidate in candidates(kind, approvers, people):
        deciders, why = deciders_for(candidate, people)
        found |= deciders
        reasons.append(why)
    if found:
        return frozenset(found), ""
    return frozenset(), reasons[0] if reasons else MISSING


def route_step(kind: str, approvers: Sequence[int], people: People) -> Route:
    """The step as it is when someone can decide it (its approvers as they are now: those
    who left and the participants dropped; on an HR step every HR admin), else its
    fallback: HR admins, else superusers, else flagged. A flagged step that someone can
    decide now leaves the oversight page for them (its reason stays the caller's)."""
    found, why = step_deciders(kind, approvers, people)
    if found and kind != OVERSIGHT:
        kept = tuple(
            u
            for u in candidates(kind, approvers, people)
            if u in people.present and u not in people.participants
        )
        return Route(kind, kept)
    hr = tuple(u for u in people.hr if deciders_for(u, people)[0])
    if hr:
        return Route(HR, hr, why, HR)
    superusers = tuple(u for u in people.superusers if deciders_for(u, people)[0])
    if superusers:
        return Route(SUPERUSER, superusers, why, SUPERUSER)
    return Route(OVERSIGHT, (), why, OVERSIGHT)
