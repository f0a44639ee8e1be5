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
