import pytest
from django.contrib.auth.models import Group

from ztk.org.role_permissions import sync_role_groups

pytestmark = pytest.mark.django_db


def codes(name):
    return set(
        Group.objects.get(name=name).permissions.values_list("content_type__app_label", "codename")
    )


def test_roles_carry_their_permissions_after_migrate():
    sync_role_groups()
    hr = codes("hr")
    assert ("org", "change_employee") in hr
    assert ("scheduling", "change_shift") in hr
    assert ("audit", "view_auditevent") not in hr
    assert ("punches", "add_punch") not in hr
    assert ("punches", "add_punchvoid") not in hr
    assert ("punches", "change_geofence") in hr
    auditor = codes("auditor")
    assert ("audit", "view_auditevent") in auditor
    assert all(code.startswith("view_") for _app, code in auditor)
    assert not any(app == "otp_totp" for app, _code in auditor)
    sysadmin = codes("sysadmin")
    assert not any(app == "audit" and not code.startswith("view_") for app, code in sysadmin)


def test_hr_sees_the_organisation_in_settings(client, org):
    sync_role_groups()
    client.force_login(org.hr.user)
    response = client.get("/admin/org/employee/")
    assert response.status_code == 200
    assert "张三" in response.content.decode()
