"""Properties of the pure routing rule (``routing.route_step``) on random organisations of
user ids, many examples and no database: every step someone can decide (or it is flagged
because literally nobody else exists), and nobody decides their own request. The same
properties through the real services: tests/corrections/test_routing_properties.py.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ztk.approvals import routing

# --- the pure rule ------------------------------------------------------------------------

USERS = list(range(1, 9))


@st.composite
def organisations(draw):
    present = frozenset(draw(st.sets(st.sampled_from(USERS))))
    participants = frozenset(draw(st.sets(st.sampled_from(USERS), min_size=1, max_size=2)))
    hr = tuple(sorted(draw(st.sets(st.sampled_from(USERS), max_size=3))))
    superusers = tuple(sorted(draw(st.sets(st.sampled_from(USERS), max_size=2))))
    pairs = draw(st.lists(st.tuples(st.sampled_from(USERS), st.sampled_from(USERS)), max_size=5))
    delegations: dict[int, set[int]] = {}
    for approver, delegate in pairs:
        if approver != delegate:
            delegations.setdefault(approver, set()).add(delegate)
    people = routing.People(
        participants=participants,
        present=present,
        hr=hr,
        superusers=superusers,
        delegations={k: frozenset(v) for k, v in delegations.items()},
    )
    kind = draw(st.sampled_from(["supervisor", "department_head", "user", *routing.ROLE_KINDS]))
    approvers = draw(st.lists(st.sampled_from(USERS), max_size=2))
    return people, kind, approvers


def somebody_else_exists(people: routing.People) -> bool:
    """A present HR admin or superuser who is not a participant and can decide (directly or
    through a delegation)."""
    return any(routing.deciders_for(u, people)[0] for u in (*people.hr, *people.superusers))


@settings(max_examples=300, deadline=None)
@given(organisations())
def test_a_routed_step_is_decidable_unless_nobody_else_exists(case):
    people, kind, approvers = case

    route = routing.route_step(kind, approvers, people)
    deciders, why = routing.step_deciders(route.kind, route.approvers, people)

    assert not deciders & people.participants
    if route.flagged:
        assert not deciders and not somebody_else_exists(people)
        assert why  # and it says why
    else:
        assert deciders
    if route.fell_back:
        assert route.reason in routing.REASONS or kind == routing.OVERSIGHT
        if route.to == routing.SUPERUSER:
            assert not any(routing.deciders_for(u, people)[0] for u in people.hr)


@settings(max_examples=150, deadline=None)
@given(organisations())
def test_a_step_someone_can_decide_keeps_its_kind(case):
    people, kind, approvers = case
    assume(kind != routing.OVERSIGHT)
    found, _why = routing.step_deciders(kind, approvers, people)
    route = routing.route_step(kind, approvers, people)
    assert (route.kind == kind and not route.fell_back) == bool(found)


def test_a_delegation_circle_ends():
    people = routing.People(
        participants=frozenset({9}),
        present=frozenset({1, 2, 3}),
        delegations={1: frozenset({2}), 2: frozenset({3}), 3: frozenset({1})},
    )
    assert routing.deciders_for(1, people) == (frozenset(), routing.AWAY)
