"""HR actions on terminals: who may do them, what they change, what they audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests import factories
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.devices import ingest, protocol, services
from ztk.devices.models import (
    CommandStatus,
    DeviceCommand,
    DeviceStatus,
    HeldPunch,
    HoldReason,
)
from ztk.punches.models import Punch

from .conftest import make_device


def attlog(device, text: str):
    records, errors = protocol.parse_attlog(text)
    assert errors == []
    return ingest.ingest_records(device, records, channel="push", recompute=False)


class TestPermissions:
    @pytest.mark.parametrize("who", ["employee", "supervisor", "auditor"])
    def test_only_hr_and_sysadmins(self, org, pending, who):
        actor = getattr(org, who).user
        with pytest.raises(PermissionDeniedError):
            services.device_approve(actor=actor, serial=pending.serial)
        with pytest.raises(PermissionDeniedError):
            services.device_queue_command(actor=actor, serial=pending.serial, command="INFO")
        with pytest.raises(PermissionDeniedError):
            services.held_punch_assign(actor=actor, employee=org.employee, pin="1")
        with pytest.raises(PermissionDeniedError):
            services.device_disable(actor=actor, serial=pending.serial)

    def test_hr_and_sysadmin_may(self, org, pending):
        services.device_approve(actor=org.hr.user, serial=pending.serial)
        services.device_disable(actor=org.sysadmin, serial=pending.serial)


class TestApprove:
    def test_releases_held_punches_in_the_zone_chosen_at_approval(self, org, pending):
        attlog(pending, "1002\t2026-11-26 09:00:00\t0\t1\n9999\t2026-11-26 09:01:00\n")
        assert Punch.objects.count() == 0

        result = services.device_approve(
            actor=org.hr.user, serial=pending.serial, time_zone="Asia/Tokyo", name="Gate 1"
        )

        assert result.device.status == DeviceStatus.APPROVED
        assert result.device.approved_by == org.hr.user
        assert (result.released.recorded, result.released.still_held) == (1, 1)
        assert Punch.objects.get().at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
        resolved = HeldPunch.objects.get(pin="1002")
        assert resolved.resolution == "recorded"
        assert resolved.punch == Punch.objects.get()
        assert resolved.employee == org.employee
        assert HeldPunch.objects.get(pin="9999").reason == HoldReason.UNKNOWN_PIN
        event = AuditEvent.objects.get(action="devices.device.approve")
        assert event.changes["before"]["status"] == "pending"
        assert event.changes["after"]["status"] == "approved"
        assert AuditEvent.objects.filter(action="devices.device.approve.release").exists()

    def test_approving_twice_changes_nothing(self, org, pending):
        services.device_approve(actor=org.hr.user, serial=pending.serial)
        services.device_approve(actor=org.hr.user, serial=pending.serial)
        assert AuditEvent.objects.filter(action="devices.device.approve").count() == 1

    def test_unknown_serial_and_bad_zone(self, org, pending):
        with pytest.raises(NotFoundError):
            services.device_approve(actor=org.hr.user, serial="NOPE")
        with pytest.raises(DomainError) as exc:
            services.device_approve(actor=org.hr.user, serial=pending.serial, time_zone="Mars/X")
        assert exc.value.code == "bad_time_zone"
        with pytest.raises(DomainError) as exc:
            services.device_approve(
                actor=org.hr.user, serial=pending.serial, attendance_group="NOPE"
            )
        assert exc.value.code == "group_not_found"

    def test_held_punch_refused_on_release_is_resolved_with_the_reason(self, org, pending):
        org.employee.hire_date = datetime(2026, 12, 1).date()
        org.employee.save()
        attlog(pending, "1002\t2026-11-26 09:00:00\n")

        result = services.device_approve(actor=org.hr.user, serial=pending.serial)

        assert result.released.refused[0][1] == "before_hire_date"
        held = HeldPunch.objects.get()
        assert held.resolved_at is not None
        assert held.resolution.startswith("refused: before_hire_date")

    def test_command_line_approval_has_no_actor(self, org, pending):
        result = services.device_approve(actor=None, serial=pending.serial)
        assert result.device.status == DeviceStatus.APPROVED

    def test_disable_then_approve_enables_again(self, org, approved):
        services.device_disable(actor=org.hr.user, serial=approved.serial)
        approved.refresh_from_db()
        assert approved.status == DeviceStatus.DISABLED
        services.device_approve(actor=org.hr.user, serial=approved.serial)
        approved.refresh_from_db()
        assert approved.status == DeviceStatus.APPROVED


class TestAssign:
    @pytest.fixture
    def held(self, approved):
        attlog(
            approved,
            "77\t2026-11-26 08:50:00\n77\t2026-11-26 18:05:00\n88\t2026-11-26 08:55:00\n",
        )
        return HeldPunch.objects.order_by("pin", "local_time")

    def test_chosen_held_punches_only(self, org, held):
        first = held.first()
        result = services.held_punch_assign(
            actor=org.hr.user, employee=org.colleague, held_ids=[first.pk]
        )
        assert result.released.recorded == 1
        assert Punch.objects.get().employee == org.colleague
        assert HeldPunch.objects.filter(resolved_at__isnull=True).count() == 2
        event = AuditEvent.objects.get(action="devices.held_punch.assign")
        assert event.changes["counts"]["new"] == 1

    def test_assigning_again_adds_nothing(self, org, held):
        services.held_punch_assign(actor=org.hr.user, employee=org.colleague, pin="77")
        again = services.held_punch_assign(actor=org.hr.user, employee=org.colleague, pin="77")
        assert again.released.recorded == 0
        assert Punch.objects.count() == 2

    def test_needs_a_choice_and_an_active_employee(self, org, held):
        with pytest.raises(DomainError) as exc:
            services.held_punch_assign(actor=org.hr.user, employee=org.colleague)
        assert exc.value.code == "nothing_to_assign"
        org.colleague.active = False
        org.colleague.save()
        with pytest.raises(DomainError) as exc:
            services.held_punch_assign(actor=org.hr.user, employee=org.colleague, pin="77")
        assert exc.value.code == "employee_inactive"

    def test_punches_of_a_pending_terminal_wait_for_approval(self, org, pending):
        attlog(pending, "77\t2026-11-26 08:50:00\n")
        with pytest.raises(DomainError) as exc:
            services.held_punch_assign(actor=org.hr.user, employee=org.employee, pin="77")
        assert exc.value.code == "not_approved"

    def test_dismiss_keeps_the_row_with_the_reason(self, org, held):
        count = services.held_punch_dismiss(
            actor=org.hr.user, pin="88", reason="installer's test PIN"
        )
        assert count == 1
        row = HeldPunch.objects.get(pin="88")
        assert row.resolution == "dismissed: installer's test PIN"
        assert row.punch is None
        with pytest.raises(DomainError):
            services.held_punch_dismiss(actor=org.hr.user, pin="77", reason="")


class TestCommands:
    def test_queue_validates_the_command(self, org, approved):
        command = services.device_queue_command(
            actor=org.hr.user, serial=approved.serial, command="DATA QUERY USERINFO"
        )
        assert command.status == CommandStatus.QUEUED
        assert command.created_by == org.hr.user
        for bad in ["INFO\nREBOOT", "DATA DELETE USERINFO PIN=1", "", "FORMAT"]:
            with pytest.raises(DomainError) as exc:
                services.device_queue_command(
                    actor=org.hr.user, serial=approved.serial, command=bad
                )
            assert exc.value.code == "bad_command"
        assert AuditEvent.objects.filter(action="devices.command.queue").count() == 1

    def test_reupload_a_time_range_in_terminal_local_time(self, org, approved):
        command = services.device_request_attlog(
            actor=org.hr.user,
            serial=approved.serial,
            start=datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
            end=datetime(2026, 11, 2, 0, 0, tzinfo=UTC),
        )
        assert command.command == (
            "DATA QUERY ATTLOG StartTime=2026-11-01 08:00:00\tEndTime=2026-11-02 08:00:00"
        )
        with pytest.raises(DomainError):
            services.device_request_attlog(
                actor=org.hr.user,
                serial=approved.serial,
                start=datetime(2026, 11, 2, tzinfo=UTC),
                end=datetime(2026, 11, 1, tzinfo=UTC),
            )

    def test_resend_all_forgets_the_stamp_and_queues_check(self, org, approved):
        approved.attlog_stamp = "12345"
        approved.save()
        command = services.device_resend_all(actor=org.hr.user, serial=approved.serial)
        approved.refresh_from_db()
        assert approved.attlog_stamp == "0"
        assert command.command == "CHECK"
        assert DeviceCommand.objects.filter(device=approved).count() == 1


def test_update_sets_group_and_zone(org, approved):
    other = factories.AttendanceGroupFactory(code="NIGHT", time_zone="Asia/Urumqi")
    device = services.device_update(
        actor=org.hr.user, serial=approved.serial, attendance_group="NIGHT", name="Back door"
    )
    assert device.time_zone_name == "Asia/Urumqi"
    assert device.attendance_group == other
    assert AuditEvent.objects.filter(action="devices.device.update").exists()


def test_a_second_terminal_with_the_same_pin_and_time_is_a_different_punch(org, approved):
    second = make_device("SECOND01", group=org.group)
    attlog(approved, "1002\t2026-11-26 09:00:00\n")
    attlog(second, "1002\t2026-11-26 09:00:00\n")
    assert Punch.objects.count() == 2  # the duplicate key is (serial, PIN, time)


def test_approve_device_command(org, pending):
    from io import StringIO

    from django.core.management import CommandError, call_command

    attlog(pending, "1002\t2026-11-26 09:00:00\n")
    out = StringIO()
    call_command("approve-device", pending.serial, "--group", "STD", "--name", "Gate", stdout=out)

    assert "approved (Asia/Shanghai)" in out.getvalue()
    assert "recorded 1" in out.getvalue()
    pending.refresh_from_db()
    assert (pending.status, pending.name) == (DeviceStatus.APPROVED, "Gate")
    with pytest.raises(CommandError, match="device_not_found"):
        call_command("approve-device", "NOPE", stdout=out)
