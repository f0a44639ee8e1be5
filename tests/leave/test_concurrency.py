"""20 parallel leave requests (threads, real PostgreSQL connections) that together exceed
the balance: the balance row is locked, so it never goes below zero."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from ztk.core.errors import DomainError
from ztk.leave.models import AbsencePolicy, AbsenceRequest, LedgerEntry
from ztk.leave.selectors import balance_of

from .conftest import NOW, grant, leave, seed_types, week_for


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_requests_never_take_the_balance_below_zero(org, time_machine):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer anyway")
    time_machine.move_to(NOW, tick=False)
    seed_types()
    week_for(org)
    AbsencePolicy.objects.create(group=org.group, chain_preset="flat")
    grant(org.employee, "5")
    # 20 distinct working days (Monday 26 October to Friday 20 November), one per thread;
    # HR files each on the employee's behalf, so each is approved (and debited) at once.
    first = date(2026, 10, 26)
    days = [
        first + timedelta(days=i) for i in range(28) if (first + timedelta(days=i)).weekday() < 5
    ]
    assert len(days) == 20
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def worker(day: date) -> None:
        try:
            barrier.wait()
            req = leave(org.employee, day, actor=org.hr.user)
            result = req.status
        except DomainError as error:
            result = error.code
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            result = f"error: {error!r}"
        finally:
            close_old_connections()
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(d,)) for d in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("approved") == 5, outcomes
    assert outcomes.count("insufficient_balance") == 15, outcomes
    assert balance_of(org.employee, "annual") == Decimal("0")
    assert AbsenceRequest.objects.filter(status="approved").count() == 5
    afters = list(LedgerEntry.objects.order_by("pk").values_list("balance_after", flat=True))
    assert min(afters) >= 0 and afters[-1] == 0
