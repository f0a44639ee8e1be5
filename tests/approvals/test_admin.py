"""The delegation admin (moved from corrections with its model): HR opens it by role."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from ztk.corrections.services import delegation_create


def test_delegations_open_for_hr_and_not_for_employees(client, org):
    delegation_create(
        actor=org.supervisor.user,
        approver=org.supervisor.user,
        delegate=org.head.user,
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
    )
    client.force_login(org.hr.user)
    page = client.get(reverse("admin:approvals_delegation_changelist"))
    assert page.status_code == 200
    assert "2026" in page.content.decode()
    client.force_login(org.employee.user)
    response = client.get(reverse("admin:approvals_delegation_changelist"))
    assert response.status_code in (302, 403)
