"""The weekly digest: to every auditor and member of HR once a week, honouring the opt-out;
what it says (new findings, departments whose anomalies moved, open warnings)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.corrections.conftest import at
from ztk.attendance.models import AttendanceDay
from ztk.notifications.models import Notification, ReminderOptOut
from ztk.oversight import digest
from ztk.oversight.models import DigestSent, EarlyWarning, Finding

pytestmark = pytest.mark.django_db

MONDAY = at(date(2026, 11, 30), 8, 5)  # the digest is about 23–29 November


def test_moved_is_pure_and_keeps_the_large_moves():
    counts = {"A": (10, 20), "B": (10, 12), "C": (0, 3), "D": (20, 14), "E": (40, 45)}
    assert [(m.department, m.change) for m in digest.moved(counts)] == [
        ("A", 10),
        ("D", -6),
        ("C", 3),
    ]


def test_last_week_is_the_calendar_week_before():
    assert digest.last_week(date(2026, 11, 30)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert digest.last_week(date(2026, 12, 2)) == (date(2026, 11, 23), date(2026, 11, 29))


@pytest.fixture
def week(org, time_machine):
    time_machine.move_to(MONDAY, tick=False)
    Finding.objects.create(
        rule="buddy_punch",
        key="buddy_punch:e1-e2:2026-11-01",
        severity="high",
        employee=org.employee,
        other_employee=org.colleague,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        first_found_at=at(date(2026, 11, 25), 2, 30),
        last_found_at=at(date(2026, 11, 25), 2, 30),
    )
    Finding.objects.create(  # found the week before: not new
        rule="frequent_corrector",
        key="frequent_corrector:e1:2026-11-01",
        severity="medium",
        employee=org.employee,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        first_found_at=at(date(2026, 11, 18), 2, 30),
        last_found_at=at(date(2026, 11, 25), 2, 30),
    )
    EarlyWarning.objects.create(
        kind="silent_terminal",
        key="silent_terminal:t1:2026-11-27",
        severity="medium",
        period_start=date(2026, 11, 27),
        period_end=date(2026, 11, 27),
        raised_at=at(date(2026, 11, 27), 10),
    )
    # 研发部: 1 missing check-in the week before, 5 last week
    for i in range(7):
        for day, bad in ((date(2026, 11, 16) + timedelta(days=i), i == 0),
                         (date(2026, 11, 23) + timedelta(days=i), i < 5)):  # fmt: skip
            AttendanceDay.objects.create(
                employee=org.employee,
                day=day,
                kind="work",
                status="abnormal" if bad else "normal",
                missing_in_count=1 if bad else 0,
                computed_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
    return org


def test_auditors_and_hr_get_it_once_a_week(week):
    sent = digest.send_weekly_digests()

    notes = Notification.objects.filter(kind="oversight_digest")
    assert sent == 2
    assert {n.recipient.username for n in notes} == {"hr", "auditor"}
    note = notes.get(recipient=week.auditor.user)
    texts = note.texts["en"]
    assert texts["title"] == "Oversight digest 2026-11-23 – 2026-11-29"
    assert "1 new findings, 1 departments whose anomalies moved, 1 open warnings" in texts["body"]
    assert "研发部: 1 → 5 (+4)" in note.body
    assert note.url == "/hr/oversight/findings/"
    assert DigestSent.objects.filter(week_start=date(2026, 11, 23)).count() == 2

    assert digest.send_weekly_digests(now=MONDAY + timedelta(hours=1)) == 0
    assert Notification.objects.filter(kind="oversight_digest").count() == 2


def test_the_opt_out_is_honoured(week):
    ReminderOptOut.objects.create(user=week.hr.user, kind="oversight_digest")
    assert digest.send_weekly_digests() == 1
    assert Notification.objects.get(kind="oversight_digest").recipient == week.auditor.user


def test_the_inbox_offers_the_switch_to_readers_only(week, client):
    client.force_login(week.auditor.user)
    assert 'value="oversight_digest"' in client.get("/notifications/").content.decode()
    client.force_login(week.employee.user)
    assert 'value="oversight_digest"' not in client.get("/notifications/").content.decode()
    client.post("/notifications/reminders/", {"on": ["punch_in"]})
    assert not ReminderOptOut.objects.filter(user=week.employee.user, kind="oversight_digest")
