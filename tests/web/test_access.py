"""Who may open which page: 403 for everyone outside a section, the profile rule for people."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory


def _user(org, who: str):
    if who == "sysadmin":
        return org.sysadmin
    return getattr(org, {"manager": "supervisor"}.get(who, who)).user


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/org/employee/", "/admin/audit/auditevent/", "/admin/login/"]
)
def test_employee_gets_403_in_the_admin(client, org, path):
    # Django's admin would show its own log-in form again; a signed-in employee gets a plain
    # "no access" page instead.
    client.force_login(org.employee.user)

    response = client.get(path)

    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]


def test_anonymous_admin_visit_goes_to_the_app_login(client, db):
    response = client.get("/admin/org/employee/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/admin/org/employee/"


def test_admin_login_form_is_not_a_side_door(client, org):
    # The admin's own form knows nothing of the TOTP step, so it only points to the app's log-in.
    response = client.post("/admin/login/", {"username": "employee", "password": "x"})

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("who", ["hr", "sysadmin"])
def test_hr_and_sysadmin_enter_the_settings_area_by_role(client, org, who):
    client.force_login(_user(org, who))

    assert client.get("/admin/").status_code == 200


def test_superuser_uses_the_admin(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    assert client.get("/admin/org/employee/").status_code == 200


@pytest.mark.parametrize(
    ("path", "allowed", "denied"),
    [
        ("/audit/", ["auditor", "sysadmin"], ["employee", "manager", "head", "hr"]),
        ("/hr/", ["hr"], ["employee", "manager", "head", "auditor", "sysadmin"]),
        ("/reports/", ["hr", "sysadmin"], ["employee", "manager", "auditor"]),
    ],
)
def test_sections_are_closed_to_other_roles(client, org, path, allowed, denied):
    for who in allowed:
        client.force_login(_user(org, who))
        assert client.get(path).status_code == 200, who
    for who in denied:
        client.force_login(_user(org, who))
        assert client.get(path).status_code == 403, who


def test_the_approval_inbox_shows_a_non_approver_nothing(client, org):
    """Open to any signed-in user, because a delegate need not be a supervisor; an employee
    with nothing delegated sees an empty inbox, never anyone's requests."""
    client.force_login(org.employee.user)
    response = client.get("/approvals/")
    assert response.status_code == 200
    assert response.context["rows"] == [] or not list(response.context["rows"])


@pytest.mark.parametrize(
    ("who", "number", "status"),
    [
        ("employee", "1002", 200),  # own profile
        ("employee", "1003", 404),  # a colleague's: like a number nobody has
        ("employee", "1001", 404),  # the supervisor's
        ("manager", "1002", 200),  # a direct report
        ("head", "1002", 200),  # someone in the department
        ("stranger", "1002", 404),  # another department
        ("auditor", "1002", 404),
        ("hr", "1002", 200),  # HR sees everyone
        ("hr", "2001", 200),
        ("employee", "9999", 404),
    ],
)
def test_employee_profile_visibility(client, org, who, number, status):
    client.force_login(_user(org, who))

    assert client.get(f"/people/{number}/").status_code == status


def test_anonymous_users_are_sent_to_login_everywhere(client, org):
    for path in ["/", "/hr/", "/audit/", "/people/1002/", "/accounts/lockouts/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith("/accounts/login/"), path
