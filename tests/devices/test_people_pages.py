"""HR's pages for people on terminals: PIN mappings, biometric consent, "send every user"."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from ztk.audit.models import AuditEvent
from ztk.devices import services
from ztk.devices.models import (
    BiometricOptOut,
    BiometricTemplate,
    DeviceCommand,
    DeviceLog,
    TerminalPin,
    TerminalUser,
)

from .conftest import make_device, post
from .test_biometrics import TMP, fp_line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.terminal_sync]


@pytest.fixture
def hr_client(client, org):
    client.force_login(org.hr.user)
    return client


@pytest.fixture
def two(org):
    return make_device("TERMA0001", group=org.group), make_device("TERMB0002", group=org.group)


def test_hr_maps_a_pin_with_a_card_then_deletes_it(hr_client, org, two):
    a, b = two
    response = hr_client.post(
        reverse("devices:pin_save"),
        {
            "employee_no": "1002",
            "pin": "501",
            "card": "8800123",
            "scope": f"group:{org.group.code}",
        },
    )
    assert response.status_code == 302
    mapping = TerminalPin.objects.get(pin="501")
    assert (mapping.employee, mapping.card, mapping.group) == (org.employee, "8800123", org.group)
    assert AuditEvent.objects.filter(action="devices.terminal_pin.set").count() == 1
    for device in (a, b):
        assert DeviceCommand.objects.filter(
            device=device, command="DATA UPDATE USERINFO PIN=501\tName=张三\tPri=0\tCard=8800123"
        ).exists()
    page = hr_client.get(reverse("devices:pins")).content.decode()
    assert "501" in page and "8800123" in page and "张三" in page

    hr_client.post(reverse("devices:pin_delete", args=[mapping.pk]))
    assert not TerminalPin.objects.exists()
    assert AuditEvent.objects.filter(action="devices.terminal_pin.delete").count() == 1
    # back to the employee number on the terminals
    assert DeviceCommand.objects.filter(device=a, command="DATA DELETE USERINFO PIN=501").exists()
    assert TerminalUser.objects.get(device=a, employee=org.employee).pin == "1002"


def test_a_bad_card_is_refused_with_the_reason(hr_client, org, two):
    response = hr_client.post(
        reverse("devices:pin_save"),
        {"employee_no": "1002", "pin": "501", "card": "12ab", "scope": f"group:{org.group.code}"},
        follow=True,
    )
    with translation.override("zh-hans"):
        reason = str(services.MESSAGES["bad_card"])
    assert reason in response.content.decode()
    assert not TerminalPin.objects.exists()


def test_consent_withdrawal_purges_templates_and_refuses_new_ones(client, hr_client, org, two):
    a, b = two
    post(client, "OPERLOG", fp_line(), serial=a.serial)
    assert BiometricTemplate.objects.count() == 1
    page = hr_client.get(reverse("devices:biometrics")).content.decode()
    assert "张三" in page and TMP[:20] not in page

    hr_client.post(
        reverse("devices:consent_withdraw"), {"employee_no": "1002", "reason": "本人书面撤回"}
    )
    assert not BiometricTemplate.objects.exists()
    assert BiometricOptOut.objects.get().reason == "本人书面撤回"
    assert AuditEvent.objects.filter(action="devices.biometric.consent_withdraw").count() == 1
    assert AuditEvent.objects.filter(action="devices.template.purge").count() == 1
    # the terminal that has it is told to delete it; the person stays on the terminals
    assert DeviceCommand.objects.filter(
        device=a, command="DATA DELETE FINGERTMP PIN=1002\tFID=6"
    ).exists()
    assert not DeviceCommand.objects.filter(command="DATA DELETE USERINFO PIN=1002").exists()

    DeviceCommand.objects.filter(device=a).delete()
    post(client, "OPERLOG", fp_line(), serial=a.serial)  # enrolled again on the terminal
    assert not BiometricTemplate.objects.exists()
    assert DeviceLog.objects.filter(code="template_refused", message__contains="consent").exists()
    assert list(DeviceCommand.objects.filter(device=a).values_list("command", flat=True)) == [
        "DATA DELETE FINGERTMP PIN=1002\tFID=6"
    ]

    hr_client.post(reverse("devices:consent_restore"), {"employee_no": "1002"})
    assert not BiometricOptOut.objects.exists()
    post(client, "OPERLOG", fp_line(), serial=a.serial)
    assert BiometricTemplate.objects.count() == 1


def test_send_every_user_again_for_a_replaced_terminal(hr_client, org, two):
    a, _b = two
    before = DeviceCommand.objects.filter(device=a).count()
    response = hr_client.post(reverse("devices:command", args=[a.serial]), {"kind": "sync_all"})
    assert response.status_code == 302
    users = TerminalUser.objects.filter(device=a).count()
    assert users == 7
    # the queued (unsent) commands were replaced, not doubled; sent ones would be re-queued
    assert DeviceCommand.objects.filter(device=a).count() == before
    assert AuditEvent.objects.filter(action="devices.device.sync_all").count() == 1
    page = hr_client.get(reverse("devices:detail", args=[a.serial])).content.decode()
    assert reverse("devices:pins") in page and 'value="sync_all"' in page
