"""A lasting PIN ↔ employee mapping per terminal or group: PINs need not equal employee
numbers; ingestion uses the mapping when there is one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError
from ztk.devices.models import HeldPunch, TerminalPin
from ztk.devices.services import device_approve, terminal_pin_set
from ztk.punches.models import Punch

from .conftest import make_device, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_client(client, org):
    client.force_login(org.hr.user)
    return client


def test_assign_and_remember_makes_later_punches_of_that_pin_count(
    client, hr_client, org, approved
):
    post(client, "ATTLOG", "77\t2026-11-26 08:50:00\n")
    hr_client.post(
        reverse("devices:assign"),
        {
            "employee_no": org.colleague.employee_no,
            "pin": "77",
            "serial": approved.serial,
            "remember": "1",
        },
    )
    assert TerminalPin.objects.get().employee == org.colleague
    assert AuditEvent.objects.filter(action="devices.terminal_pin.set").count() == 1

    response = post(client, "ATTLOG", "77\t2026-11-26 18:00:00\n")
    assert response.content == b"OK: 1"
    assert Punch.objects.filter(employee=org.colleague).count() == 2
    assert not HeldPunch.objects.filter(resolved_at__isnull=True).exists()
    page = hr_client.get(reverse("devices:detail", args=[approved.serial])).content.decode()
    assert org.colleague.employee_no in page[page.index('id="pins"') :]


def test_without_remember_the_pin_stays_unknown(client, hr_client, org, approved):
    post(client, "ATTLOG", "77\t2026-11-26 08:50:00\n")
    hr_client.post(
        reverse("devices:assign"),
        {"employee_no": org.colleague.employee_no, "pin": "77", "serial": approved.serial},
    )
    assert not TerminalPin.objects.exists()
    post(client, "ATTLOG", "77\t2026-11-26 18:00:00\n")
    assert HeldPunch.objects.filter(resolved_at__isnull=True, pin="77").count() == 1


def test_group_mapping_applies_to_every_terminal_and_terminal_mapping_wins(client, org, approved):
    other = make_device("OTHER0001", group=org.group)
    terminal_pin_set(actor=org.hr.user, pin="5", employee=org.colleague, group=org.group)
    terminal_pin_set(actor=org.hr.user, pin="5", employee=org.employee, serial=other.serial)

    post(client, "ATTLOG", "5\t2026-11-26 08:50:00\n")  # the approved terminal: group rule
    post(client, "ATTLOG", "5\t2026-11-26 08:51:00\n", serial=other.serial)  # its own rule
    assert Punch.objects.filter(employee=org.colleague).count() == 1
    assert Punch.objects.filter(employee=org.employee).count() == 1


def test_a_pin_equal_to_an_employee_number_still_maps_to_the_mapped_person(client, org, approved):
    terminal_pin_set(
        actor=org.hr.user,
        pin=org.employee.employee_no,
        employee=org.colleague,
        serial=approved.serial,
    )
    post(client, "ATTLOG", f"{org.employee.employee_no}\t2026-11-26 08:50:00\n")
    assert Punch.objects.get().employee == org.colleague


def test_held_punches_of_a_pending_terminal_use_the_mapping_on_approval(client, org):
    pending = make_device("PEND0001", status="pending", group=org.group)
    post(client, "ATTLOG", "901\t2026-11-26 08:50:00\n", serial=pending.serial)
    terminal_pin_set(actor=org.hr.user, pin="901", employee=org.colleague, group=org.group)
    device_approve(actor=org.hr.user, serial=pending.serial)
    assert Punch.objects.get().employee == org.colleague


@pytest.mark.parametrize("pin", ["", "7 7", "a\x00", "x" * 25])
def test_a_bad_pin_is_refused_and_nothing_written(org, approved, pin):
    with pytest.raises(DomainError) as error:
        terminal_pin_set(actor=org.hr.user, pin=pin, employee=org.colleague, serial=approved.serial)
    assert error.value.code == "bad_pin"
    assert not TerminalPin.objects.exists()


def test_only_managers_set_pins(org, approved):
    with pytest.raises(Exception):  # noqa: B017 - the permission error of require_manager
        terminal_pin_set(
            actor=org.employee.user, pin="5", employee=org.colleague, serial=approved.serial
        )
    assert not TerminalPin.objects.exists()
