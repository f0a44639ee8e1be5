"""Leases: one holder at a time across processes, expiry after a holder dies, and only the
holder renews or releases (ztk/core/leases.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ztk.core.leases import Lease, LeaseHeld, holder, leased, release_held
from ztk.core.models import Lease as LeaseRow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_leases_of_other_tests():
    release_held()  # leases an earlier test left in this process's registry


def test_one_holder_at_a_time_and_the_second_gets_it_after_release():
    first, second = Lease("job", 60), Lease("job", 60)
    assert first.acquire()
    assert not second.acquire()
    assert holder("job") == first.owner
    first.release()
    assert second.acquire()
    assert holder("job") == second.owner


def test_a_dead_holders_lease_is_taken_over_once_it_expires():
    dead = Lease("drain", 60)
    assert dead.acquire()
    LeaseRow.objects.filter(name="drain").update(expires_at=timezone.now() - timedelta(seconds=1))
    heir = Lease("drain", 60)
    assert heir.acquire()
    # The dead holder, were it only slow, can neither renew nor release the heir's lease.
    assert not dead.renew()
    dead.release()
    assert holder("drain") == heir.owner
    assert heir.renew()


def test_the_context_manager_refuses_a_held_lease():
    with Lease("report", 60), pytest.raises(LeaseHeld), Lease("report", 60):
        pass
    assert holder("report") is None


def test_a_leased_task_is_skipped_while_another_holds_it_and_runs_after():
    runs = []

    @leased("digest", 60)
    def task(n):
        runs.append(n)
        return n

    other = Lease("digest", 60)
    assert other.acquire()
    assert task(1) is None and runs == []
    other.release()
    assert task(2) == 2 and runs == [2]
    assert holder("digest") is None  # released after the run


def test_release_held_releases_this_process_s_leases_only():
    mine = Lease("a", 60)
    assert mine.acquire()
    LeaseRow.objects.create(
        name="b",
        owner="other-node:1:x",
        expires_at=timezone.now() + timedelta(minutes=1),
        acquired_at=timezone.now(),
    )
    assert release_held() == ["a"]
    assert holder("a") is None
    assert holder("b") == "other-node:1:x"
