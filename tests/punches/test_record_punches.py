from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.punches.models import Punch, PunchVoid
from ztk.punches.services import PunchInput, punch_void, record_punches

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=SH)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=SH)


def test_new_punches_are_stored_once_and_resending_changes_nothing(org):
    batch = [
        PunchInput(
            at=at(16, 8, 55), source="device", employee_no="1002", device_sn="SN1", pin="1002"
        ),
        PunchInput(
            at=at(16, 18, 5), source="device", employee_no="1002", device_sn="SN1", pin="1002"
        ),
    ]
    first = record_punches(batch, now=NOW)
    assert (first.new, first.duplicate, first.rejected) == (2, 0, [])
    again = record_punches(batch + batch[:1], now=NOW)
    assert (again.new, again.duplicate) == (0, 3)
    assert Punch.objects.count() == 2


def test_a_bad_item_is_refused_alone_with_a_specific_reason(org):
    batch = [
        PunchInput(at=at(16, 9), source="web", employee_no="1002"),
        PunchInput(at=NOW + timedelta(minutes=6), source="web", employee_no="1002"),
        PunchInput(at=datetime(2026, 11, 16, 9), source="web", employee_no="1002"),
        PunchInput(at=datetime(1999, 12, 31, 9, tzinfo=SH), source="web", employee_no="1002"),
        PunchInput(at=datetime(2023, 12, 31, 9, tzinfo=SH), source="web", employee_no="1002"),
        PunchInput(at=at(16, 9), source="web", employee_no="nobody"),
        PunchInput(at=at(16, 9), source="telepathy", employee_no="1002"),
    ]
    result = record_punches(batch, now=NOW)
    assert result.new == 1
    assert [(r.index, r.code) for r in result.rejected] == [
        (1, "future_time"),
        (2, "naive_time"),
        (3, "impossible_timestamp"),
        (4, "before_hire_date"),
        (6, "bad_source"),
        (5, "unknown_employee"),
    ]
    assert all(r.message for r in result.rejected)


def test_a_punch_within_five_minutes_of_now_is_accepted(org):
    result = record_punches(
        [PunchInput(at=NOW + timedelta(minutes=4), source="web", employee_no="1002")], now=NOW
    )
    assert result.new == 1


def test_unknown_employees_can_be_held_by_the_caller(org):
    held = []

    def hold(items):
        held.extend(items)
        return len(items)

    result = record_punches(
        [PunchInput(at=at(16, 9), source="device", employee_no="777", device_sn="X", pin="777")],
        on_unknown=hold,
        now=NOW,
    )
    assert (result.new, result.held, result.rejected) == (0, 1, [])
    assert held[0][1].pin == "777"


def test_each_batch_is_audited_with_its_counts(org):
    before = AuditEvent.objects.count()
    record_punches([PunchInput(at=at(16, 9), source="web", employee_no="1002")], now=NOW)
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "punches.record"
    assert event.changes["counts"] == {"new": 1, "duplicate": 0, "held": 0, "rejected": 0}


def test_punches_cannot_be_edited_or_deleted(org):
    record_punches([PunchInput(at=at(16, 9), source="web", employee_no="1002")], now=NOW)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        Punch.objects.update(remark="edited")
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        Punch.objects.all().delete()
    assert Punch.objects.get().remark == ""


def test_void_needs_hr_and_a_reason_and_is_kept(org):
    record_punches([PunchInput(at=at(16, 9), source="manual", employee_no="1002")], now=NOW)
    punch = Punch.objects.get()
    with pytest.raises(PermissionDeniedError):
        punch_void(actor=org.employee.user, punch=punch, reason="wrong")
    with pytest.raises(DomainError) as info:
        punch_void(actor=org.hr.user, punch=punch, reason=" ")
    assert info.value.code == "reason_required"
    punch_void(actor=org.hr.user, punch=punch, reason="录入错误")
    assert PunchVoid.objects.get().punch == punch
    assert Punch.objects.filter(pk=punch.pk).exists()
    with pytest.raises(DomainError) as info:
        punch_void(actor=org.hr.user, punch=punch, reason="again")
    assert info.value.code == "already_voided"
    assert AuditEvent.objects.filter(action="punches.punch.void").count() == 1


def test_punch_after_leave_date_is_refused(org):
    org.employee.leave_date = date(2026, 11, 10)
    org.employee.save()
    result = record_punches([PunchInput(at=at(16, 9), source="web", employee_no="1002")], now=NOW)
    assert [r.code for r in result.rejected] == ["after_leave_date"]
