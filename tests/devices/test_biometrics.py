"""Biometric templates: stored encrypted, copied to the other terminals, purged; people sync."""

from __future__ import annotations

import base64

import pytest
from django.db import connection

from ztk.audit.models import AuditEvent
from ztk.devices import biokey, biometrics
from ztk.devices.ingest import handle_poll
from ztk.devices.models import (
    BiometricTemplate,
    CommandStatus,
    DeviceCommand,
    DeviceLog,
    TerminalUser,
)

from .conftest import make_device, post

pytestmark = pytest.mark.terminal_sync

TEMPLATE = bytes(range(256)) * 3 + b"ZKFINGERPRINT-MARKER"
TMP = base64.b64encode(TEMPLATE).decode()


def fp_line(pin: str = "1002", fid: int = 6, tmp: str = TMP) -> str:
    return f"FP PIN={pin}\tFID={fid}\tSize={len(tmp)}\tValid=1\tTMP={tmp}\n"


@pytest.fixture
def two(org):
    return make_device("TERMA0001", group=org.group), make_device("TERMB0002", group=org.group)


@pytest.mark.django_db(transaction=True)
class TestUpload:
    def test_fp_line_is_stored_encrypted_and_never_in_clear(self, client, org, two):
        a, _b = two
        response = post(client, "OPERLOG", fp_line(), serial=a.serial, OpStamp="5")
        assert response.content == b"OK: 1"
        row = BiometricTemplate.objects.get()
        assert (row.employee, row.kind, row.index, row.valid) == (org.employee, "finger", 6, 1)
        assert row.size == len(TMP) and row.source_device == a
        with connection.cursor() as cursor:
            cursor.execute("SELECT ciphertext, digest FROM devices_biometrictemplate")
            blob, digest = cursor.fetchone()
        blob = bytes(blob)
        assert TEMPLATE not in blob and TMP.encode() not in blob
        assert b"ZKFINGERPRINT-MARKER" not in blob
        assert biokey.decrypt(blob, row.crypto_context) == TEMPLATE
        # Nothing else keeps the bytes: not the log, not the audit, not the commands.
        for text in DeviceLog.objects.values_list("raw", "message"):
            assert TMP[:40] not in " ".join(text)
        assert not any(TMP[:40] in str(e.changes) for e in AuditEvent.objects.all())
        assert not DeviceCommand.objects.filter(command__contains=TMP[:40]).exists()
        assert AuditEvent.objects.filter(action="devices.template.store").count() == 1

    def test_copied_to_the_other_terminal_with_the_bytes_added_only_when_handed_out(
        self, client, org, two
    ):
        a, b = two
        post(client, "OPERLOG", fp_line(), serial=a.serial)
        copy = DeviceCommand.objects.get(device=b, command__startswith="DATA UPDATE FINGERTMP")
        assert copy.command == f"DATA UPDATE FINGERTMP PIN=1002\tFID=6\tSize={len(TMP)}\tValid=1"
        assert not DeviceCommand.objects.filter(
            device=a, command__startswith="DATA UPDATE FINGERTMP"
        ).exists()
        answer = handle_poll(b)
        assert f"C:{copy.pk}:{copy.command}\tTMP={TMP}\n" in answer
        assert AuditEvent.objects.filter(action="devices.template.copy").count() == 1

    def test_re_upload_changes_nothing(self, client, org, two):
        a, _b = two
        post(client, "OPERLOG", fp_line(), serial=a.serial)
        commands = DeviceCommand.objects.count()
        post(client, "OPERLOG", fp_line(), serial=a.serial)
        assert BiometricTemplate.objects.count() == 1
        assert DeviceCommand.objects.count() == commands
        assert AuditEvent.objects.filter(action="devices.template.store").count() == 1

    @pytest.mark.parametrize(
        "line,code",
        [
            (fp_line(pin="9999"), "no employee has this PIN"),
            (fp_line(tmp="not base64!!"), "not base64"),
        ],
    )
    def test_refused_lines_are_logged_without_the_template(self, client, org, two, line, code):
        a, _b = two
        post(client, "OPERLOG", line, serial=a.serial)
        assert not BiometricTemplate.objects.exists()
        entry = DeviceLog.objects.get(code="template_refused")
        assert code in entry.message and entry.raw == ""

    def test_pending_terminal_templates_are_not_stored(self, client, org):
        make_device("PEND0001", status="pending", group=org.group)
        post(client, "OPERLOG", fp_line(), serial="PEND0001")
        assert not BiometricTemplate.objects.exists()

    def test_store_service_for_3x_biodata(self, org, two):
        a, _b = two
        outcome = biometrics.template_store_uploaded(
            a, pin="1002", kind="palm", index=0, template=TMP, format="BIODATA", version="10.0"
        )
        assert outcome.changed and outcome.template.kind == "palm"
        # a 2.x terminal has no palm table: nothing to copy there
        assert not DeviceCommand.objects.filter(template=outcome.template).exists()


@pytest.mark.django_db(transaction=True)
class TestPeopleSync:
    def test_new_terminal_gets_the_group_once(self, org):
        device = make_device("TERMC0003", group=org.group)
        users = DeviceCommand.objects.filter(
            device=device, command__startswith="DATA UPDATE USERINFO"
        )
        assert users.filter(command__contains="PIN=1002\tName=张三").count() == 1
        count = DeviceCommand.objects.count()
        biometrics.sync_device(device)
        assert DeviceCommand.objects.count() == count
        assert TerminalUser.objects.filter(device=device).count() == users.count()

    def test_deactivation_deletes_user_and_purges_templates(self, client, org, two):
        a, b = two
        post(client, "OPERLOG", fp_line(), serial=a.serial)
        org.employee.active = False
        org.employee.save()
        for device in (a, b):
            assert DeviceCommand.objects.filter(
                device=device, command="DATA DELETE USERINFO PIN=1002"
            ).exists()
        assert not BiometricTemplate.objects.exists()
        assert AuditEvent.objects.filter(action="devices.template.purge").count() == 1
        # the copy not yet sent to B was cancelled, never to carry the template out
        copy = DeviceCommand.objects.get(device=b, command__startswith="DATA UPDATE FINGERTMP")
        assert copy.status == CommandStatus.EXPIRED

    def test_renames_are_coalesced_into_one_command_per_terminal(self, org, two):
        from django.db import transaction

        a, b = two
        DeviceCommand.objects.all().delete()
        syncs = AuditEvent.objects.filter(action="devices.user.sync").count()
        with transaction.atomic():  # two saves in one transaction: one sync
            org.employee.name = "张三丰"
            org.employee.save()
            org.employee.name = "张三"
            org.employee.save()
        assert not DeviceCommand.objects.exists()  # back to what the terminals have
        org.employee.name = "张三丰"
        org.employee.save()
        org.employee.name = "张小三"
        org.employee.save()  # the first rename is still queued: replaced, not doubled
        for device in (a, b):
            assert list(
                DeviceCommand.objects.filter(device=device).values_list("command", flat=True)
            ) == ["DATA UPDATE USERINFO PIN=1002\tName=张小三\tPri=0\tCard="]
        assert AuditEvent.objects.filter(action="devices.user.sync").count() == syncs + 2

    def test_terminal_moved_to_another_group_swaps_its_people(self, org, two):
        from tests.factories import AttendanceGroupFactory, EmployeeFactory, UserFactory
        from ztk.devices.services import device_update

        a, _b = two
        night = AttendanceGroupFactory(code="NIGHT", name="夜班")
        EmployeeFactory(
            user=UserFactory(username="night1"),
            employee_no="5001",
            name="夜一",
            attendance_group=night,
        )
        DeviceCommand.objects.all().delete()
        device_update(actor=None, serial=a.serial, attendance_group="NIGHT")
        commands = list(DeviceCommand.objects.filter(device=a).values_list("command", flat=True))
        assert "DATA UPDATE USERINFO PIN=5001\tName=夜一\tPri=0\tCard=" in commands
        assert "DATA DELETE USERINFO PIN=1002" in commands
        assert len(commands) == 1 + 7  # the night worker in, the 7 day people out
        assert set(TerminalUser.objects.filter(device=a).values_list("pin", flat=True)) == {"5001"}


@pytest.mark.django_db(transaction=True)
def test_face_template_is_stored_and_copied_as_face(client, org, two):
    a, b = two
    face = base64.b64encode(b"FACE" * 600).decode()
    post(client, "OPERLOG", f"FACE PIN=1002\tFID=0\tSize={len(face)}\tValid=1\tTMP={face}\n",
         serial=a.serial)  # fmt: skip
    row = BiometricTemplate.objects.get()
    assert (row.kind, row.index) == ("face", 0)
    copy = DeviceCommand.objects.get(device=b, template=row)
    assert copy.command == f"DATA UPDATE FACE PIN=1002\tFID=0\tSize={len(face)}\tValid=1"
    assert handle_poll(b).count(f"TMP={face}") == 1


@pytest.mark.django_db(transaction=True)
def test_a_large_change_is_synced_by_the_worker(org, two, monkeypatch):
    from django.db import transaction

    from ztk.devices import tasks

    a, _b = two
    monkeypatch.setattr(biometrics, "SYNC_INLINE_MAX", 1)
    calls = []
    real = tasks.sync_employees_task
    monkeypatch.setattr(tasks, "sync_employees_task", lambda ids: calls.append(ids) or real(ids))
    DeviceCommand.objects.all().delete()
    with transaction.atomic():
        for person in (org.employee, org.colleague):
            person.name += "丙"
            person.save()
    assert calls == [sorted([org.employee.pk, org.colleague.pk])]
    assert DeviceCommand.objects.filter(device=a, command__contains="Name=张三丙").count() == 1
    assert DeviceCommand.objects.filter(device=a, command__contains="Name=李四丙").count() == 1
