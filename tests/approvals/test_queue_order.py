"""The one order of an approver's queue (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ztk.approvals.selectors import QueueEntry, queue_order

NOW = datetime(2026, 12, 3, 10, tzinfo=UTC)


def entry(pk, *, urgent=False, waited_hours=1, due_in_hours=None):
    due = NOW + timedelta(hours=due_in_hours) if due_in_hours is not None else None
    return QueueEntry(pk, pk, urgent, NOW - timedelta(hours=waited_hours), due)


def test_overdue_then_urgent_then_longest_waiting_then_oldest():
    entries = [
        entry(1, waited_hours=2),
        entry(2, urgent=True, waited_hours=1),
        entry(3, waited_hours=50, due_in_hours=-1),  # overdue
        entry(4, waited_hours=5),
        entry(5, waited_hours=5),  # as long as 4: the older request first
        entry(6, urgent=True, waited_hours=9, due_in_hours=0),  # due now: overdue
        entry(7, waited_hours=30, due_in_hours=3),  # not yet due
    ]
    assert queue_order(entries, NOW) == [6, 3, 2, 7, 4, 5, 1]


def test_a_step_without_a_start_waits_last():
    entries = [QueueEntry(1, 1, False, None, None), entry(2, waited_hours=0)]
    assert queue_order(entries, NOW) == [2, 1]
