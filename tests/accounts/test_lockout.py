"""django-axes: five failures lock the account for the cool-off; HR can unlock, audited."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from tests.accounts.helpers import audit_actions, log_in
from tests.factories import UserFactory

LOCKED_STATUSES = {403, 429}


def _fail(client, username: str, times: int):
    return [log_in(client, username, "wrong-password") for _ in range(times)]


def test_settings_lock_after_five_failures_for_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert round(settings.AXES_COOLOFF_TIME * 60) == 15  # hours, as django-axes reads it


def test_four_failures_do_not_lock(client, org):
    responses = _fail(client, "employee", 4)

    assert [r.status_code for r in responses] == [200] * 4
    assert log_in(client, "employee").status_code == 302


def test_fifth_failure_locks_and_sixth_attempt_is_refused_even_with_the_right_password(client, org):
    # when
    responses = _fail(client, "employee", 5)

    # then: the fifth failure already answers with the lock-out page
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code in LOCKED_STATUSES
    assert "accounts/locked_out.html" in [t.name for t in responses[4].templates]

    sixth = log_in(client, "employee", HTTP_ACCEPT_LANGUAGE="en")
    assert sixth.status_code in LOCKED_STATUSES
    assert "_auth_user_id" not in client.session
    text = sixth.content.decode()
    assert "Account locked" in text
    assert "locked for 15 minutes" in text
    assert audit_actions("accounts.login") == []


def test_lockout_page_is_chinese_by_default(client, org):
    _fail(client, "employee", 5)

    response = log_in(client, "employee")

    assert response.status_code in LOCKED_STATUSES
    text = response.content.decode()
    assert "账户已锁定" in text
    assert "15 分钟" in text


def test_lockout_is_per_account_not_per_office(client, org):
    _fail(client, "employee", 5)

    # a colleague behind the same address can still log in
    assert log_in(client, "colleague").status_code == 302


def test_lockout_ends_after_the_cool_off(client, org, time_machine):
    time_machine.move_to("2026-03-02 09:00:00+08:00", tick=False)
    _fail(client, "employee", 5)

    time_machine.move_to("2026-03-02 09:16:00+08:00", tick=False)
    assert log_in(client, "employee").status_code == 302


def test_hr_sees_the_locked_account_and_unlocks_it(client, org):
    # given
    _fail(client, "employee", 5)
    hr = client.__class__()
    hr.force_login(org.hr.user)

    # when
    listing = hr.get("/accounts/lockouts/")
    response = hr.post("/accounts/lockouts/", {"username": "employee"})

    # then
    assert listing.status_code == 200
    assert [lock.username for lock in listing.context["lockouts"]] == ["employee"]
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="employee").exists()
    events = audit_actions("accounts.unlock")
    assert len(events) == 1
    assert events[0].actor_label == "hr"
    assert events[0].object_id == str(org.employee.user.pk)
    assert events[0].changes["username"] == "employee"
    assert log_in(client, "employee").status_code == 302


def test_sysadmin_may_unlock_too(client, org):
    _fail(client, "employee", 5)
    admin_client = client.__class__()
    admin_client.force_login(org.sysadmin)

    assert admin_client.post("/accounts/lockouts/", {"username": "employee"}).status_code == 302
    assert len(audit_actions("accounts.unlock")) == 1


@pytest.mark.parametrize("who", ["employee", "manager", "auditor"])
def test_others_may_not_unlock(client, org, who):
    _fail(client, "colleague", 5)
    client.force_login(getattr(org, {"manager": "supervisor"}.get(who, who)).user)

    assert client.get("/accounts/lockouts/").status_code == 403
    assert client.post("/accounts/lockouts/", {"username": "colleague"}).status_code == 403
    assert AccessAttempt.objects.filter(username="colleague").exists()
    assert audit_actions("accounts.unlock") == []


def test_superuser_unlocks_through_the_admin_action(client, org):
    # given
    _fail(client, "employee", 5)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    ids = list(AccessAttempt.objects.filter(username="employee").values_list("pk", flat=True))

    # when
    response = client.post(
        "/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": ids}
    )

    # then
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="employee").exists()
    assert [e.changes["username"] for e in audit_actions("accounts.unlock")] == ["employee"]
