"""/settings/reminders/: HR switches each group's reminders and quiet hours (audited);
auditors read; a person switches a reminder off for themselves under the inbox."""

from __future__ import annotations

from datetime import time

import pytest
from django.contrib.auth import get_user_model

from ztk.audit.models import AuditEvent
from ztk.notifications.models import ReminderOptOut, ReminderSettings

pytestmark = pytest.mark.django_db
User = get_user_model()

FORM = {
    "punch_in": "1",
    "punch_in_minutes": "15",
    "punch_out": "1",
    "missed_punch": "1",
    "cutoff": "1",
    "cutoff_days": "3",
    "digest_time": "08:30",
    "quiet": "1",
    "quiet_start": "21:00",
    "quiet_end": "07:30",
}


def login(client, username: str):
    client.force_login(User.objects.get(username=username))
    return client


def test_the_list_shows_the_defaults_of_a_group_without_settings(client, org):
    body = login(client, "hr").get("/settings/reminders/").content.decode()
    assert "标准工时组" in body
    assert "10" in body and "22:00–07:00" in body and "09:00" in body


def test_hr_saves_a_groups_reminders_audited(client, org):
    response = login(client, "hr").post("/settings/reminders/STD/", FORM)
    assert response.status_code == 302
    row = ReminderSettings.objects.get(group=org.group)
    assert (row.punch_in_minutes, row.cutoff_days, row.digest) == (15, 3, False)
    assert (row.digest_time, row.quiet_start, row.quiet_end) == (time(8, 30), time(21), time(7, 30))
    [event] = AuditEvent.objects.filter(action="notifications.reminders.create")
    assert event.changes["after"]["punch_in_minutes"] == 15
    # the same form again changes nothing and records nothing
    login(client, "hr").post("/settings/reminders/STD/", FORM)
    assert AuditEvent.objects.filter(action__startswith="notifications.reminders.").count() == 1


@pytest.mark.parametrize(
    "field, value",
    [("punch_in_minutes", "0"), ("punch_in_minutes", "abc"), ("cutoff_days", "99"),
     ("quiet_start", "25:00"), ("digest_time", "9")],
)  # fmt: skip
def test_a_bad_value_is_refused_at_its_field_and_nothing_is_written(client, org, field, value):
    response = login(client, "hr").post("/settings/reminders/STD/", FORM | {field: value})
    assert response.status_code == 422
    body = response.content.decode()
    after = body.split(f'name="{field}"', 1)[1]
    assert 'class="errors"' in after.split('class="field', 1)[0]
    assert not ReminderSettings.objects.exists()


def test_the_auditor_reads_but_cannot_change(client, org):
    login(client, "auditor")
    body = client.get("/settings/reminders/STD/").content.decode()
    assert "disabled" in body
    assert client.post("/settings/reminders/STD/", FORM).status_code == 403
    assert not ReminderSettings.objects.exists()


def test_a_person_switches_a_reminder_off_for_themselves(client, org):
    login(client, "employee")
    page = client.get("/notifications/").content.decode()
    assert 'id="reminder-choices"' in page
    response = client.post("/notifications/reminders/", {"on": ["punch_in", "digest"]})
    assert response.status_code == 302
    off = set(ReminderOptOut.objects.filter(user=org.employee.user).values_list("kind", flat=True))
    assert off == {"punch_out", "missed_punch", "cutoff"}
    # ticking everything again switches them all back on
    client.post("/notifications/reminders/", {"on": ["punch_in", "punch_out", "missed_punch",
                                                      "cutoff", "digest"]})  # fmt: skip
    assert not ReminderOptOut.objects.filter(user=org.employee.user).exists()
    # unknown kinds are ignored by the page (only the known ones are offered)
    assert client.post("/notifications/reminders/", {"on": ["<x>"]}).status_code == 302
