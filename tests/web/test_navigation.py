"""The navigation shows each role exactly its sections."""

from __future__ import annotations

import pytest

HOME, APPROVALS, TEAM, WARNINGS, HR, REPORTS, AUDIT, SETTINGS = (
    "/",
    "/approvals/",
    "/attendance/team/",
    "/hr/oversight/warnings/",  # department heads' early warnings (HR: from the hub)
    "/hr/",
    "/reports/",
    "/audit/",
    "/settings/",  # the settings pages; the Django admin is linked from there
)


def _nav(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return [item["url"] for item in response.context["nav_items"]]


@pytest.mark.parametrize(
    ("who", "sections"),
    [
        ("employee", [HOME]),
        ("stranger", [HOME]),
        ("manager", [HOME, APPROVALS, TEAM]),
        ("head", [HOME, APPROVALS, TEAM, WARNINGS]),
        ("hr", [HOME, APPROVALS, TEAM, HR, REPORTS, SETTINGS]),
        ("auditor", [HOME, AUDIT, SETTINGS]),  # reads the settings
        ("sysadmin", [HOME, TEAM, REPORTS, AUDIT, SETTINGS]),
    ],
)
def test_each_role_sees_only_its_sections(client, org, who, sections):
    user = (
        org.sysadmin
        if who == "sysadmin"
        else getattr(org, {"manager": "supervisor"}.get(who, who)).user
    )

    assert _nav(client, user) == sections


def test_nav_labels_are_chinese_by_default(client, org):
    client.force_login(org.hr.user)

    html = client.get("/").content.decode()

    for label in ["我的考勤", "审批", "人事管理", "报表", "系统设置"]:
        assert f">{label}</a>" in html
    assert ">审计</a>" not in html


def test_current_section_is_marked(client, org):
    client.force_login(org.hr.user)

    items = client.get("/hr/").context["nav_items"]

    assert [item["url"] for item in items if item["active"]] == [HR]


def test_unlock_link_only_for_hr_and_admins(client, org):
    client.force_login(org.employee.user)
    assert b"/accounts/lockouts/" not in client.get("/").content

    client.force_login(org.hr.user)
    assert b"/accounts/lockouts/" in client.get("/").content
