"""The terminal models in the admin: lists render, status moves only through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ztk.devices.models import DeviceStatus, HeldPunch
from ztk.punches.models import Punch

from .conftest import make_device, post


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.sysadmin)
    return client


@pytest.mark.parametrize("model", ["device", "devicecommand", "heldpunch", "devicelog"])
def test_changelists_render(admin_client, client, approved, model):
    post(client, "ATTLOG", "77\t2026-11-26 08:50:00\nbad line\n")
    response = admin_client.get(reverse(f"admin:devices_{model}_changelist"))
    assert response.status_code == 200


def test_device_change_form_has_status_read_only(admin_client, approved):
    response = admin_client.get(reverse("admin:devices_device_change", args=[approved.pk]))
    assert response.status_code == 200
    assert 'name="status"' not in response.content.decode()


def test_approve_action_releases_held_punches(admin_client, client, org):
    pending = make_device("PEND0001", status=DeviceStatus.PENDING, group=org.group)
    post(client, "ATTLOG", "1002\t2026-11-26 08:50:00\n", serial=pending.serial)

    response = admin_client.post(
        reverse("admin:devices_device_changelist"),
        {"action": "approve_selected", "_selected_action": [pending.pk]},
        follow=True,
    )

    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == DeviceStatus.APPROVED
    assert Punch.objects.filter(device_sn="PEND0001").count() == 1
    assert HeldPunch.objects.get().resolution == "recorded"


def test_held_punches_cannot_be_edited_by_hand(admin_client, client, approved):
    post(client, "ATTLOG", "77\t2026-11-26 08:50:00\n")
    held = HeldPunch.objects.get()
    url = reverse("admin:devices_heldpunch_change", args=[held.pk])
    assert admin_client.post(url, {"pin": "1002"}).status_code == 403
