"""The one-tap approve link of approval e-mails (issue 14 item 5): it leads to a page that
asks for a sign-in first, never approves by itself, approves with one button through the
same service and permission checks as the request's page, and refuses whoever is not the
step's approver."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ztk.corrections.models import CorrectionRequest, Status
from ztk.notifications.models import MessageLanguage, OutboxMessage

from .conftest import MON, only_checkout, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(week, settings):
    settings.SITE_URL = "https://kq.example.com"
    org = week
    org.supervisor.email = "boss@example.com"
    org.supervisor.save()
    MessageLanguage.objects.create(user=org.supervisor.user, language="en")
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    return req


def test_the_approval_e_mail_carries_the_confirm_link_in_the_approvers_language(pending):
    mail = OutboxMessage.objects.get(channel="email", target="boss@example.com")
    link = "https://kq.example.com" + reverse("requests:approve_confirm", args=[pending.pk])
    assert link in mail.payload["body"]
    assert "Approve with one tap (you sign in first" in mail.payload["body"]  # English
    assert mail.payload["subject"].startswith("Correction to approve")


def test_the_link_asks_for_a_sign_in_and_approves_nothing_by_itself(pending):
    url = reverse("requests:approve_confirm", args=[pending.pk])
    response = Client().get(url)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert "next=" in response["Location"]
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_the_approver_approves_with_one_button(pending, week):
    client = Client()
    client.force_login(week.supervisor.user)
    page = client.get(reverse("requests:approve_confirm", args=[pending.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'action="{reverse("requests:approve", args=[pending.pk])}"' in html
    pending.refresh_from_db()
    assert pending.status == Status.PENDING  # opening the page changes nothing

    done = client.post(reverse("requests:approve", args=[pending.pk]))

    assert done.status_code == 302
    req = CorrectionRequest.objects.get(pk=pending.pk)
    assert req.current_step == 2  # on to HR: the supervisor's step is approved
    assert req.actions.filter(action="approve", actor=week.supervisor.user).exists()


def test_someone_who_is_not_the_approver_is_refused(pending, week):
    # HR may see the request but it waits for the supervisor
    client = Client()
    client.force_login(week.hr.user)
    page = client.get(reverse("requests:approve_confirm", args=[pending.pk]))
    assert page.status_code == 302
    assert page["Location"] == reverse("requests:detail", args=[pending.pk])
    assert client.post(reverse("requests:approve", args=[pending.pk])).status_code == 403
    # a colleague may not even see it
    other = Client()
    other.force_login(week.colleague.user)
    assert other.get(reverse("requests:approve_confirm", args=[pending.pk])).status_code == 404
    # nor may the employee approve their own
    own = Client()
    own.force_login(week.employee.user)
    assert own.get(reverse("requests:approve_confirm", args=[pending.pk])).status_code == 302
    pending.refresh_from_db()
    assert pending.status == Status.PENDING and pending.current_step == 1
