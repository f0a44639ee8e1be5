"""The demo shows what the product does (issue 12, the first week): the `employee` login's
October has every status — normal, late, early leave, missing punch, absent, corrected,
a correction pending, rest day, holiday — and the demo terminal is on the devices page,
approved and seen just now."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from ztk.attendance.models import AttendanceDay
from ztk.audit.selectors import audit_verify
from ztk.corrections.models import CorrectionRequest, Status
from ztk.devices.models import Device, DeviceStatus
from ztk.org.models import Employee

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.get_fixed_timezone(480))


@pytest.fixture
def demo(settings, tmp_path, time_machine):
    settings.VAR_DIR = tmp_path
    time_machine.move_to(TODAY, tick=False)
    call_command("demo", verbosity=0, stdout=StringIO())
    return Employee.objects.select_related("user").get(user__username="employee")


def test_the_demo_shows_every_status_and_its_terminal(demo, client):
    # The demo employee's October: every day status and every slot status.
    rows = list(
        AttendanceDay.objects.filter(
            employee=demo, day__gte=date(2026, 10, 1), day__lte=date(2026, 10, 31)
        )
    )
    day_statuses = {row.status for row in rows}
    slot_statuses = {slot["status"] for row in rows for slot in row.slots}
    assert {"normal", "abnormal", "absent", "rest", "holiday"} <= day_statuses
    assert {"normal", "late", "early", "missing", "corrected"} <= slot_statuses
    requests = CorrectionRequest.objects.filter(employee=demo, date__month=10)
    assert sorted(requests.values_list("date", "status")) == [
        (date(2026, 10, 16), Status.APPROVED),
        (date(2026, 10, 19), Status.PENDING),
    ]
    assert audit_verify().ok

    # The month view shows the pending one (审批中).
    client.force_login(demo.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get(reverse("attendance:home") + "?month=2026-10").content.decode()
    assert "correction under approval" in html

    # The terminal that sent the punches: approved, in the standard group, seen just now.
    device = Device.objects.select_related("attendance_group").get(serial="DEMO-ZK-01")
    assert device.status == DeviceStatus.APPROVED
    assert device.attendance_group.code == "STD"
    assert device.last_seen is not None
    assert timezone.now() - device.last_seen < timedelta(minutes=5)
    client.force_login(Employee.objects.get(user__username="hr").user)
    html = client.get(reverse("devices:index")).content.decode()
    assert "DEMO-ZK-01" in html
