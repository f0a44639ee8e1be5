"""Log-in, log-out and password change: the basic account pages and their audit trail."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from tests.accounts.helpers import LOGIN_URL, audit_actions, log_in
from tests.factories import PASSWORD

User = get_user_model()


def test_login_page_renders_for_anonymous_users(client, db):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'autocomplete="current-password"' in response.content
    assert b'class="mainnav"' not in response.content  # no sections before logging in


def test_anonymous_user_is_sent_to_login(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response.url == f"{LOGIN_URL}?next=/"


def test_login_works_and_is_audited(client, org):
    # when
    response = log_in(client, "employee")

    # then
    assert response.status_code == 302
    assert response.url == "/"
    assert client.get("/").status_code == 200
    events = audit_actions("accounts.login")
    assert len(events) == 1
    assert events[0].actor_label == "employee"
    assert events[0].object_type == "auth.user"
    assert events[0].object_id == str(org.employee.user.pk)
    assert events[0].changes == {"second_factor": False, "via": "password"}


def test_login_follows_a_safe_next_but_not_an_external_one(client, org):
    response = client.post(
        f"{LOGIN_URL}?next=/people/1002/", {"username": "employee", "password": PASSWORD}
    )
    assert response.url == "/people/1002/"

    client.logout()
    response = client.post(
        f"{LOGIN_URL}?next=https://evil.example/", {"username": "employee", "password": PASSWORD}
    )
    assert response.url == "/"


def test_wrong_password_shows_the_form_again(client, org):
    response = log_in(client, "employee", "not-the-password")

    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session
    assert audit_actions("accounts.login") == []


def test_logout_needs_post_and_is_audited(client, org):
    client.force_login(org.employee.user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response.url == LOGIN_URL
    assert client.get("/").status_code == 302
    assert [e.actor_label for e in audit_actions("accounts.logout")] == ["employee"]


def test_password_change(client, org):
    # given
    client.force_login(org.employee.user)
    new = "a-much-better-secret-42"

    # when
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )

    # then
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # the session survives the change
    user = User.objects.get(username="employee")
    assert user.check_password(new)
    assert [e.actor_label for e in audit_actions("accounts.password.change")] == ["employee"]
    client.logout()
    assert log_in(client, "employee", new).status_code == 302


def test_password_change_refuses_a_wrong_old_password(client, org):
    client.force_login(org.employee.user)
    new = "a-much-better-secret-42"

    response = client.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    assert User.objects.get(username="employee").check_password(PASSWORD)
    assert audit_actions("accounts.password.change") == []


def test_password_change_enforces_the_validators(client, org):
    client.force_login(org.employee.user)

    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "12345", "new_password2": "12345"},
    )

    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
