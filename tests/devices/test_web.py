"""The HR terminal pages at /hr/devices/."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ztk.devices.models import DeviceCommand, DeviceStatus, HeldPunch
from ztk.punches.models import Punch

from .conftest import make_device, post


@pytest.fixture
def hr_client(client, org):
    client.force_login(org.hr.user)
    return client


def test_only_hr_and_sysadmins_see_the_page(client, org):
    url = reverse("devices:index")
    assert client.get(url).status_code == 302  # to the log-in page
    client.force_login(org.employee.user)
    assert client.get(url).status_code == 403
    client.force_login(org.sysadmin)
    assert client.get(url).status_code == 200


def test_pending_terminal_is_listed_and_approved_from_the_page(client, hr_client, org):
    pending = make_device("PEND0001", status=DeviceStatus.PENDING)
    post(client, "ATTLOG", "1002\t2026-11-26 08:57:03\n", serial=pending.serial)

    page = hr_client.get(reverse("devices:index"))
    html = page.content.decode()
    assert 'name="viewport"' in html
    assert "PEND0001" in html
    assert reverse("devices:approve", args=["PEND0001"]) in html

    response = hr_client.post(
        reverse("devices:approve", args=["PEND0001"]),
        {"name": "Gate 1", "attendance_group": "STD", "time_zone": ""},
        follow=True,
    )

    assert response.status_code == 200
    pending.refresh_from_db()
    assert (pending.status, pending.name, pending.attendance_group) == (
        DeviceStatus.APPROVED,
        "Gate 1",
        org.group,
    )
    assert Punch.objects.filter(employee=org.employee).count() == 1
    assert "PEND0001" in response.content.decode()  # the success message


def test_held_punches_are_assigned_from_the_page(client, hr_client, org, approved):
    post(client, "ATTLOG", "77\t2026-11-26 08:50:00\n77\t2026-11-26 18:00:00\n")
    html = hr_client.get(reverse("devices:index")).content.decode()
    assert 'value="77"' in html

    first = HeldPunch.objects.order_by("local_time").first()
    response = hr_client.post(
        reverse("devices:assign"),
        {"employee_no": org.colleague.employee_no, "held": [str(first.pk)], "pin": "77"},
        follow=True,
    )
    assert response.status_code == 200
    assert Punch.objects.filter(employee=org.colleague).count() == 1

    hr_client.post(
        reverse("devices:assign"),
        {"employee_no": org.colleague.employee_no, "pin": "77", "serial": approved.serial},
    )
    assert Punch.objects.filter(employee=org.colleague).count() == 2
    assert not HeldPunch.objects.filter(resolved_at__isnull=True).exists()


def test_assign_to_an_unknown_employee_says_so(client, hr_client, approved):
    post(client, "ATTLOG", "77\t2026-11-26 08:50:00\n")
    response = hr_client.post(
        reverse("devices:assign"), {"employee_no": "NOBODY", "pin": "77"}, follow=True
    )
    assert "NOBODY" in response.content.decode()
    assert HeldPunch.objects.get().resolved_at is None


def test_set_aside_needs_a_reason(client, hr_client, approved):
    post(client, "ATTLOG", "77\t2026-11-26 08:50:00\n")
    hr_client.post(reverse("devices:dismiss"), {"pin": "77", "reason": ""})
    assert HeldPunch.objects.get().resolved_at is None
    hr_client.post(reverse("devices:dismiss"), {"pin": "77", "reason": "installer test"})
    assert HeldPunch.objects.get().resolution == "dismissed: installer test"


def test_detail_page_commands_and_disable(hr_client, approved):
    url = reverse("devices:detail", args=[approved.serial])
    assert hr_client.get(url).status_code == 200

    hr_client.post(reverse("devices:command", args=[approved.serial]), {"kind": "INFO"})
    hr_client.post(reverse("devices:command", args=[approved.serial]), {"kind": "resend_all"})
    hr_client.post(
        reverse("devices:command", args=[approved.serial]),
        {"kind": "range", "start": "2026-11-01T00:00", "end": "2026-11-02T00:00"},
    )
    hr_client.post(reverse("devices:command", args=[approved.serial]), {"kind": "FORMAT"})
    commands = list(DeviceCommand.objects.order_by("id").values_list("command", flat=True))
    assert commands == [
        "INFO",
        "CHECK",
        "DATA QUERY ATTLOG StartTime=2026-11-01 00:00:00\tEndTime=2026-11-02 00:00:00",
    ]
    page = hr_client.get(url).content.decode()
    assert "DATA QUERY ATTLOG" in page

    hr_client.post(reverse("devices:disable", args=[approved.serial]), {})
    approved.refresh_from_db()
    assert approved.status == DeviceStatus.DISABLED
    hr_client.post(
        reverse("devices:update", args=[approved.serial]),
        {"name": "Back door", "attendance_group": "", "time_zone": "Asia/Tokyo"},
    )
    approved.refresh_from_db()
    assert (approved.name, approved.time_zone) == ("Back door", "Asia/Tokyo")


def test_index_query_count_does_not_grow_with_terminals(
    hr_client, org, django_assert_max_num_queries
):
    for i in range(3):
        make_device(f"DEV{i:05d}", status=DeviceStatus.PENDING if i % 2 else "approved")
    with django_assert_max_num_queries(25) as few:
        hr_client.get(reverse("devices:index"))
    for i in range(3, 30):
        make_device(f"DEV{i:05d}", status=DeviceStatus.PENDING if i % 2 else "approved")
    with django_assert_max_num_queries(25) as many:
        hr_client.get(reverse("devices:index"))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_get_on_an_action_is_refused(hr_client, approved):
    assert hr_client.get(reverse("devices:approve", args=[approved.serial])).status_code == 405


def test_detail_page_shows_the_push_protocol(hr_client, org):
    from datetime import UTC, datetime

    device = make_device("CGXH3X0000009", group=org.group, protocol="3", registry_code="c" * 32)
    device.session_started_at = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    device.save()
    page = hr_client.get(reverse("devices:detail", args=[device.serial])).content.decode()
    assert "3.x" in page
    assert "2026-11-26 09:00" in page  # the session start, in the server's zone
