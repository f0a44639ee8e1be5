"""The monthly limit under its lock, HR overrides, closed periods, the preview."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import close_old_connections, connection

from ztk.attendance.models import AttendanceDay, AttendancePeriod
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.corrections.models import CorrectionPolicy, CorrectionRequest, QuotaCounter, Status
from ztk.corrections.selectors import correction_preview, quota_for
from ztk.corrections.services import correction_withdraw
from ztk.punches.models import Punch

from .conftest import MON, TUE, WED, at, item, only_checkout, submit

pytestmark = pytest.mark.django_db

THU_BEFORE = date(2026, 11, 19)
FRI_BEFORE = date(2026, 11, 20)


def limit(org, n):
    CorrectionPolicy.objects.update_or_create(group=org.group, defaults={"monthly_limit": n})


def test_the_limit_counts_pending_and_approved_and_frees_on_withdraw(week):
    org = week
    limit(org, 2)
    only_checkout(org.employee, MON, TUE)
    first, second = submit(org.employee.user, org.employee, item(MON), item(TUE))
    assert QuotaCounter.objects.get(employee=org.employee).used == 2
    with pytest.raises(DomainError) as refused:
        submit(org.employee.user, org.employee, item(TUE, slot="out1", hh=18))
    assert "monthly_limit_reached" in [d["code"] for d in refused.value.details]
    correction_withdraw(actor=org.employee.user, request=second)
    assert QuotaCounter.objects.get(employee=org.employee).used == 1
    assert quota_for(org.employee)["remaining"] == 1


def test_a_batch_cannot_exceed_the_limit(week):
    org = week
    limit(org, 1)
    only_checkout(org.employee, MON, TUE)
    with pytest.raises(DomainError) as refused:
        submit(org.employee.user, org.employee, item(MON), item(TUE))
    assert [(d["index"], d["code"]) for d in refused.value.details] == [
        (1, "monthly_limit_reached")
    ]
    assert not CorrectionRequest.objects.exists()


def test_hr_may_override_the_limit_with_a_reason(week):
    org = week
    limit(org, 1)
    only_checkout(org.employee, MON, TUE)
    submit(org.employee.user, org.employee, item(MON))
    with pytest.raises(PermissionDeniedError):
        submit(org.supervisor.user, org.employee, item(TUE), quota_override_reason="特批")
    with pytest.raises(DomainError) as refused:
        submit(org.hr.user, org.employee, item(TUE), quota_override_reason="  ")
    assert refused.value.code == "quota_override_reason_required"
    (req,) = submit(org.hr.user, org.employee, item(TUE), quota_override_reason="设备故障全员补卡")
    assert req.quota_override_reason == "设备故障全员补卡"


def test_hr_manual_adds_count_when_the_policy_says_so(week):
    org = week
    CorrectionPolicy.objects.create(group=org.group, monthly_limit=1, manual_adds_count=True)
    from ztk.punches.services import PunchInput, record_punches

    record_punches([PunchInput(at=at(TUE, 8, 50), source="manual", employee_id=org.employee.pk)])
    only_checkout(org.employee, MON)
    with pytest.raises(DomainError) as refused:
        submit(org.employee.user, org.employee)
    assert refused.value.code == "monthly_limit_reached"


def test_a_closed_period_refuses_submission_and_final_approval(week):
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    from ztk.corrections.services import correction_approve

    correction_approve(actor=org.supervisor.user, request=req)
    AttendancePeriod.objects.create(
        group=org.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status="closed"
    )
    with pytest.raises(DomainError) as refused:
        correction_approve(actor=org.hr.user, request=req)
    assert refused.value.code == "period_closed"
    req.refresh_from_db()
    assert req.status == Status.PENDING and not Punch.objects.filter(source="correction").exists()
    only_checkout(org.employee, TUE)
    with pytest.raises(DomainError) as refused:
        submit(org.employee.user, org.employee, item(TUE))
    assert refused.value.code == "period_closed"


def test_window_future_and_outside_window_are_refused(week):
    org = week
    only_checkout(org.employee, THU_BEFORE, MON)
    with pytest.raises(DomainError) as refused:
        submit(org.employee.user, org.employee, item(THU_BEFORE), item(MON, hh=13), item(WED))
    codes = [(d["index"], d["code"]) for d in refused.value.details]
    assert (0, "window_expired") in codes
    assert (1, "time_outside_slot_window") in codes
    assert (2, "future_time") in codes or (2, "not_an_anomaly") in codes


def test_quota_lists_open_anomalies_with_their_last_day(week):
    org = week
    only_checkout(org.employee, FRI_BEFORE, MON, TUE)
    quota = quota_for(org.employee)
    assert [(a["day"], a["slot"], a["last_day_to_apply"]) for a in quota["open_anomalies"]] == [
        (MON, "in1", date(2026, 11, 26)),
        (TUE, "in1", date(2026, 11, 27)),
    ]  # Friday the 20th closed on the 23rd
    CorrectionPolicy.objects.create(group=org.group, window_mode="working")
    quota = quota_for(org.employee)
    assert [a["last_day_to_apply"] for a in quota["open_anomalies"]] == [
        date(2026, 11, 25),  # Fri + 3 working days = Wed
        date(2026, 11, 26),
        date(2026, 11, 27),
    ]


def test_preview_is_pure_and_shows_the_corrected_day(week):
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    rows = list(AttendanceDay.objects.values_list("pk", "status", "computed_at"))
    punches = Punch.objects.count()
    result = correction_preview(req)
    assert result.status == "normal"
    assert [s.status for s in result.slots] == ["corrected", "normal"]
    assert list(AttendanceDay.objects.values_list("pk", "status", "computed_at")) == rows
    assert Punch.objects.count() == punches
    same = correction_preview(item(), employee=org.employee)
    assert same.status == result.status


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_submissions_with_one_place_left_accept_exactly_one(
    org, categories, time_machine
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer anyway")
    from .conftest import NOW, week_for

    time_machine.move_to(NOW, tick=False)
    week_for(org)
    limit(org, 3)
    # No punches on Monday or Tuesday: four missing slots, two of them requested already.
    submit(org.employee.user, org.employee, item(MON), item(MON, "out1", 18))
    candidates = [item(TUE), item(TUE, "out1", 18)]
    # Fifty threads at once, alternating between the two remaining slots: one place left.
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            submit(org.employee.user, org.employee, candidates[n % 2])
            result = "accepted"
        except DomainError as error:
            result = error.code
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            result = f"error: {error!r}"
        finally:
            close_old_connections()
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("accepted") == 1, outcomes
    assert all(o in {"accepted", "monthly_limit_reached", "duplicate_pending"} for o in outcomes)
    counted = CorrectionRequest.objects.filter(employee=org.employee, status=Status.PENDING)
    assert counted.count() == 3
    assert QuotaCounter.objects.get(employee=org.employee).used == 3
