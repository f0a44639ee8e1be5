"""Delegation while away (/settings/delegations/): set up, list and end, own or (HR) anyone's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from ztk.approvals import services
from ztk.approvals.models import Delegation
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError

pytestmark = pytest.mark.django_db
URL = "/settings/delegations/"


@pytest.fixture
def org():
    return factories.small_org()


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def today() -> date:
    return timezone.localdate()


def test_approver_sets_up_their_own_by_name(org):
    c = client_for(org.supervisor.user)
    start, end = today(), today() + timedelta(days=4)
    response = c.post(URL, {"delegate": "王部长", "start": start, "end": end, "reason": "出差"})
    assert response.status_code == 302
    row = Delegation.objects.get()
    assert (row.approver, row.delegate, row.start, row.end) == (
        org.supervisor.user,
        org.head.user,
        start,
        end,
    )
    page = c.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "王部长" in page and "in force" in page
    # the delegate sees it too, but may not end it
    assert "王部长" in client_for(org.head.user).get(URL).content.decode()
    assert client_for(org.head.user).post(f"{URL}{row.pk}/cancel/").status_code == 403
    # someone else cannot even learn it exists
    assert client_for(org.employee.user).post(f"{URL}{row.pk}/cancel/").status_code == 404


def test_a_non_hr_cannot_set_one_up_for_someone_else(org):
    c = client_for(org.supervisor.user)
    end = today() + timedelta(days=2)
    c.post(URL, {"approver": "1000", "delegate": "1003", "start": today(), "end": end})
    row = Delegation.objects.get()
    assert row.approver == org.supervisor.user  # the approver field is HR's only


def test_hr_sets_one_up_for_anyone_and_sees_all(org):
    c = client_for(org.hr.user)
    end = today() + timedelta(days=2)
    response = c.post(URL, {"approver": "1001", "delegate": "1000", "start": today(), "end": end})
    assert response.status_code == 302
    row = Delegation.objects.get()
    assert row.approver == org.supervisor.user and row.created_by == org.hr.user
    assert f"delegation-{row.pk}" in c.get(URL).content.decode()
    assert f"delegation-{row.pk}" not in client_for(org.employee.user).get(URL).content.decode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"delegate": "nobody", "start": "2026-12-01", "end": "2026-12-02"}, "Choose the person"),
        ({"delegate": "1000", "start": "2026-13-01", "end": "2026-12-02"}, "Enter a date"),
        ({"delegate": "1000", "start": "2026-12-05", "end": "2026-12-01"}, "end is before"),
        ({"delegate": "1001", "start": "2026-12-01", "end": "2026-12-02"}, "someone else"),
    ],
)
def test_refusals_keep_what_was_typed(org, body, message):
    c = client_for(org.supervisor.user)
    response = c.post(URL, body, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert f'value="{body["delegate"]}"' in page
    assert not Delegation.objects.exists()


def make(org, start, end):
    return services.delegation_create(
        actor=org.supervisor.user,
        approver=org.supervisor.user,
        delegate=org.head.user,
        start=start,
        end=end,
    )


def test_cancel_one_in_force_ends_it_yesterday_and_is_audited(org):
    day = date(2026, 12, 5)
    row = make(org, day - timedelta(days=2), day + timedelta(days=3))
    services.delegation_cancel(actor=org.supervisor.user, delegation=row, today=day)
    row.refresh_from_db()
    assert row.end == day - timedelta(days=1)
    event = AuditEvent.objects.get(action="corrections.delegation.cancel")
    assert event.changes["before"]["end"] == "2026-12-08"
    assert event.changes["after"]["end"] == "2026-12-04"
    with pytest.raises(DomainError):  # already over
        services.delegation_cancel(actor=org.supervisor.user, delegation=row, today=day)


def test_cancel_one_not_started_removes_it(org):
    day = date(2026, 12, 5)
    row = make(org, day, day + timedelta(days=3))
    services.delegation_cancel(actor=org.hr.user, delegation=row, today=day)
    assert not Delegation.objects.exists()
    assert (
        AuditEvent.objects.get(action="corrections.delegation.cancel").changes.get("after")
        in (
            None,
            {},
        )
        or "after" not in AuditEvent.objects.get(action="corrections.delegation.cancel").changes
    )


@pytest.mark.parametrize("who", ["head", "employee", "auditor"])
def test_only_the_approver_or_hr_cancels(org, who):
    row = make(org, today(), today() + timedelta(days=3))
    with pytest.raises(PermissionDeniedError):
        services.delegation_cancel(actor=getattr(org, who).user, delegation=row)


def test_page_cancel(org):
    row = make(org, today(), today() + timedelta(days=3))
    response = client_for(org.supervisor.user).post(f"{URL}{row.pk}/cancel/")
    assert response.status_code == 302
    assert not Delegation.objects.exists()
