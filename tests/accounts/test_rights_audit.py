"""Every change of who may do what is in the audit chain, from every door, with before/after.

Before: adding someone to `hr`, removing them, flipping is_superuser / is_staff / is_active,
setting a password in the admin, creating or deleting accounts left 0 audit events (only
django_admin_log). Now ztk.accounts.receivers records them inside the writing transaction,
whether the admin, a command, a service or the role sync of `migrate` made the change;
failed log-ins and lock-outs are logged too. Password hashes never reach the log.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.helpers import CODE_URL, audit_actions, code_for, log_in
from tests.factories import PASSWORD, add_to_group
from ztk.accounts.services import otp_device_confirm, password_change
from ztk.audit.models import AuditEvent
from ztk.audit.selectors import audit_verify
from ztk.org.services import employee_deactivate

User = get_user_model()
NEW_PASSWORD = "another-Horse-battery-77"


class Log:
    """The audit events written from now on (setting up the org writes its own)."""

    def __init__(self) -> None:
        newest = AuditEvent.objects.order_by("-seq").first()
        self.start = newest.seq if newest else 0

    def all(self, action: str) -> list[AuditEvent]:
        return [e for e in audit_actions(action) if e.seq > self.start]

    def only(self, action: str) -> AuditEvent:
        events = self.all(action)
        assert len(events) == 1, [e.changes for e in events]
        return events[0]


@pytest.fixture
def log(org) -> Log:
    return Log()


def _no_secret_anywhere(*secrets: str) -> None:
    text = " ".join(str(e.changes) for e in AuditEvent.objects.all())
    for secret in secrets:
        assert secret not in text
    for user in User.objects.all():
        assert user.password not in text  # no hash either
    assert audit_verify().ok


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.sysadmin)
    return client


def _change_form(user, **changes):
    """What the admin's user change form posts for `user` with `changes` applied."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.date().isoformat(),
        "date_joined_1": "00:00:00",
        "groups": [str(pk) for pk in user.groups.values_list("pk", flat=True)],
        "user_permissions": [str(pk) for pk in user.user_permissions.values_list("pk", flat=True)],
        "_save": "Save",
    }
    flags = {f: getattr(user, f) for f in ("is_active", "is_staff", "is_superuser")}
    flags.update({k: v for k, v in changes.items() if k.startswith("is_")})
    data.update({k: "on" for k, v in flags.items() if v})
    data.update({k: v for k, v in changes.items() if not k.startswith("is_")})
    return data


# --- the admin -------------------------------------------------------------------------------


def test_admin_creating_an_account_is_audited_without_the_password(admin_client, org, log):
    response = admin_client.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302, response.content[:2000]
    event = log.only("accounts.user.create")
    assert event.actor_label == "sysadmin"
    assert event.object_id == str(User.objects.get(username="newbie").pk)
    assert event.changes["after"] == {
        "username": "newbie",
        "is_active": True,
        "is_staff": False,
        "is_superuser": False,
        "password": "set",
    }
    _no_secret_anywhere(NEW_PASSWORD)


def test_admin_granting_hr_and_superuser_in_one_form_is_audited(admin_client, org, log):
    # given
    user = org.employee.user
    hr = Group.objects.get(name="hr")

    # when: the change form ticks superuser and staff and adds the hr group
    response = admin_client.post(
        f"/admin/auth/user/{user.pk}/change/",
        _change_form(user, is_staff=True, is_superuser=True, groups=[str(hr.pk)]),
    )

    # then: the flags, then the groups (saved after the user) are each one event
    assert response.status_code == 302, response.content[:3000]
    flags = log.only("accounts.user.update")
    assert flags.actor_label == "sysadmin"
    assert flags.changes["before"] == {"is_staff": False, "is_superuser": False}
    assert flags.changes["after"] == {"is_staff": True, "is_superuser": True}
    groups = log.only("accounts.user.groups")
    assert (groups.object_type, groups.object_id) == ("auth.user", str(user.pk))
    assert groups.changes["before"] == {"groups": []}
    assert groups.changes["after"] == {"groups": ["hr"]}


def test_admin_removing_hr_and_deactivating_is_audited(admin_client, org, log):
    user = org.hr.user

    admin_client.post(
        f"/admin/auth/user/{user.pk}/change/", _change_form(user, is_active=False, groups=[])
    )

    assert log.only("accounts.user.update").changes == {
        "before": {"is_active": True},
        "after": {"is_active": False},
        "username": "hr",
    }
    assert log.only("accounts.user.groups").changes["after"] == {"groups": []}
    assert log.only("accounts.user.groups").changes["before"] == {"groups": ["hr"]}


def test_admin_granting_a_single_permission_is_audited(admin_client, org, log):
    user = org.employee.user
    permission = Permission.objects.get(codename="view_auditevent")

    admin_client.post(
        f"/admin/auth/user/{user.pk}/change/",
        _change_form(user, user_permissions=[str(permission.pk)]),
    )

    assert log.only("accounts.user.permissions").changes["after"] == {
        "permissions": ["audit.view_auditevent"]
    }


def test_admin_setting_a_password_is_audited_without_the_hash(admin_client, org, log):
    user = org.employee.user

    response = admin_client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    event = log.only("accounts.password.change")
    assert (event.actor_label, event.object_id) == ("sysadmin", str(user.pk))
    assert event.changes == {"after": {"usable": True}, "username": "employee"}
    _no_secret_anywhere(NEW_PASSWORD)


def test_admin_changing_a_group_s_permissions_and_deleting_it_is_audited(admin_client, org, log):
    group = Group.objects.create(name="payroll")
    add_to_group(org.employee.user, "payroll")
    permission = Permission.objects.get(codename="view_auditevent")

    admin_client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": "payroll", "permissions": [str(permission.pk)], "_save": "Save"},
    )
    admin_client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})

    assert log.only("accounts.group.permissions").changes["after"] == {
        "permissions": ["audit.view_auditevent"]
    }
    assert log.only("accounts.group.delete").changes["before"] == {
        "name": "payroll",
        "members": ["employee"],
        "permissions": ["audit.view_auditevent"],
    }
    assert not Group.objects.filter(name="payroll").exists()


def test_admin_deleting_an_account_is_audited(admin_client, org, log):
    from tests.factories import UserFactory

    user = UserFactory(username="temp", is_staff=True)
    add_to_group(user, "auditor")

    admin_client.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})

    assert log.only("accounts.user.delete").changes["before"] == {
        "username": "temp",
        "is_active": True,
        "is_staff": True,
        "is_superuser": False,
        "groups": ["auditor"],
    }


def test_admin_removing_someone_s_second_factor_is_audited(admin_client, org, log):
    device = TOTPDevice.objects.create(user=org.hr.user, name="phone", confirmed=True)

    admin_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})

    event = log.only("accounts.otp.disable")
    assert (event.actor_label, event.object_id) == ("sysadmin", str(org.hr.user.pk))
    assert event.changes["username"] == "hr"
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


# --- commands ----------------------------------------------------------------------------------


def test_createsuperuser_is_audited(org, monkeypatch, log):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", NEW_PASSWORD)

    call_command("createsuperuser", "--noinput", username="root", email="root@example.com")

    event = log.only("accounts.user.create")
    assert event.actor_label == ""  # the system: someone with a shell on the server
    assert event.changes["after"]["is_superuser"] is True
    assert event.changes["after"]["password"] == "set"
    _no_secret_anywhere(NEW_PASSWORD)


def test_changepassword_is_audited(org, monkeypatch, log):
    from ztk.accounts.management.commands.changepassword import Command

    monkeypatch.setattr(Command, "_get_pass", lambda self, prompt="": NEW_PASSWORD)

    call_command("changepassword", "employee")

    assert log.only("accounts.password.change").changes["username"] == "employee"
    assert User.objects.get(username="employee").check_password(NEW_PASSWORD)
    _no_secret_anywhere(NEW_PASSWORD)


def test_axes_reset_username_is_audited(client, org, log):
    for _ in range(5):
        log_in(client, "employee", password="wrong")
    assert AccessAttempt.objects.filter(username="employee").exists()

    call_command("axes_reset_username", "employee")

    event = log.only("accounts.unlock")
    assert event.changes["username"] == "employee"
    assert not AccessAttempt.objects.filter(username="employee").exists()


def test_group_membership_from_the_group_s_side_is_audited(org, log):
    # e.g. `ztk shell`: hr.user_set.add(...) — the reverse direction of the same table
    hr = Group.objects.get(name="hr")

    hr.user_set.add(org.employee.user, org.stranger.user)
    hr.user_set.clear()

    added = [e for e in log.all("accounts.user.groups") if "hr" in e.changes["after"]["groups"]]
    assert sorted(e.changes["name"] for e in added) == ["employee", "stranger"]
    cleared = [e for e in log.all("accounts.user.groups") if e.changes["after"] == {"groups": []}]
    assert sorted(e.changes["name"] for e in cleared) == ["employee", "hr", "stranger"]


@pytest.mark.django_db(transaction=True)
def test_a_tracked_change_outside_a_transaction_is_refused_before_it_is_written():
    with pytest.raises(RuntimeError, match="transaction"):
        User.objects.create_user("outside", password=NEW_PASSWORD)
    assert not User.objects.filter(username="outside").exists()

    with transaction.atomic():
        user = User.objects.create_user("inside", password=NEW_PASSWORD)
    user.last_login = user.date_joined
    user.save(update_fields=["last_login"])  # untracked: no transaction needed, no event
    assert [e.changes["username"] for e in audit_actions("accounts.user.create")] == ["inside"]
    assert audit_actions("accounts.user.update") == []


# --- services and log-ins ----------------------------------------------------------------------


def test_services_changing_accounts_are_audited(org, log):
    password_change(user=org.employee.user, new_password=NEW_PASSWORD)
    employee_deactivate(actor=org.hr.user, employee=org.colleague)

    assert log.only("accounts.password.change").changes["username"] == "employee"
    deactivated = log.only("accounts.user.update")
    assert deactivated.changes["before"] == {"is_active": True}
    assert deactivated.changes["username"] == "colleague"


def test_turning_on_the_second_factor_is_audited_once(org, log):
    device = TOTPDevice.objects.create(user=org.employee.user, name="default", confirmed=False)
    assert log.all("accounts.otp.enable") == []  # half set up: nothing granted yet

    otp_device_confirm(user=org.employee.user, device=device)

    assert log.only("accounts.otp.enable").changes["username"] == "employee"


def test_failed_log_ins_and_the_lock_out_are_audited(client, org, settings, log):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = TOTPDevice.objects.create(user=org.hr.user, name="phone", confirmed=True)
    log_in(client, "hr")
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    client.post(CODE_URL, {"token": wrong})  # a wrong code counts as a failed log-in
    for _ in range(4):
        log_in(client, "hr", password="wrong-password")

    failed = log.all("accounts.login.failed")
    assert [e.changes["step"] for e in failed] == ["code"] + ["password"] * 4
    assert {(e.changes["username"], e.object_id) for e in failed} == {("hr", str(org.hr.user.pk))}
    assert [e.changes["username"] for e in log.all("accounts.login.locked_out")] == ["hr"]
    _no_secret_anywhere("wrong-password")


def test_a_password_hash_upgraded_at_log_in_is_no_password_change(client, org):
    # given: a hash made by an older hasher than the first in PASSWORD_HASHERS
    user = org.employee.user
    with transaction.atomic():
        user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
        user.save(update_fields=["password"])
    changes_before = len(audit_actions("accounts.password.change"))

    # when: logging in upgrades the hash (outside any transaction)
    response = log_in(client, "employee")

    # then
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.password.startswith("pbkdf2_sha256$")
    assert len(audit_actions("accounts.password.change")) == changes_before


def test_the_role_sync_of_migrate_is_audited(db):
    # post_migrate gives the role groups their permissions; on a fresh database that is
    # the first thing in the log.
    synced = {e.changes["name"] for e in audit_actions("accounts.group.permissions")}
    assert synced == {"hr", "sysadmin", "auditor"}
