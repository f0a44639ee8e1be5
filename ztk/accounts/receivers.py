"""Every change of who may do what lands in the audit chain, whichever door it came through.

Accounts, roles and second factors change through doors this project does not own: the
Django admin (the user form saves its group and permission widgets after the user), Django's
commands (`createsuperuser`, `changepassword`), post_migrate (the role groups' permissions),
django-otp's admin. So instead of one service, model signals are the door here — and they
keep the project's rule that an audit event commits with its change:

- a tracked change (an account's login name, `is_active` / `is_staff` / `is_superuser`, its
  password, its groups and permissions, a group's name and permissions, a confirmed TOTP
  device) is recorded inside the transaction that writes it; a tracked save outside any
  transaction is refused before it is written (RuntimeError), exactly like
  `ztk.audit.services.record`. Many-to-many changes and deletions always run in one.
- password hashes never reach the log: only "set", "changed", "usable".
- untracked saves (last_login, a password hash upgraded at log-in, TOTP counters) pass
  without an event and without needing a transaction.
- failed log-ins and lock-outs (Django's `user_login_failed`, django-axes'
  `user_locked_out`) are written in a transaction of their own: nothing else is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from axes.signals import user_locked_out
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_login_failed
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save
from django_otp.models import Device

from ztk.audit.services import record

User = get_user_model()

USER_FIELDS = ("username", "is_active", "is_staff", "is_superuser")
PENDING = "_ztk_audit_pending"  # events computed before a save, recorded after it
M2M_BEFORE = "_ztk_audit_m2m_before"


def _require_transaction(what: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            f"{what} changes who may do what: run it inside transaction.atomic() so that its"
            " audit event commits with it"
        )


def _usable(encoded: str | None) -> bool:
    return bool(encoded) and not encoded.startswith(UNUSABLE_PASSWORD_PREFIX)


def _tracked(update_fields: Iterable[str] | None, fields: Iterable[str]) -> bool:
    return update_fields is None or bool(set(update_fields) & set(fields))


# --- accounts: create, flags, password, delete -----------------------------------------------


def _user_events(user: Any, update_fields: Iterable[str] | None) -> list[dict[str, Any]]:
    if user.pk is None or user._state.adding:
        return [
            {
                "action": "accounts.user.create",
                "after": {
                    **{f: getattr(user, f) for f in USER_FIELDS},
                    "password": "set" if _usable(user.password) else "unusable",
                },
            }
        ]
    if not _tracked(update_fields, (*USER_FIELDS, "password")):
        return []  # e.g. last_login at every log-in
    old = User.objects.filter(pk=user.pk).values(*USER_FIELDS, "password").first()
    if old is None:
        return []
    events = []
    changed = [f for f in USER_FIELDS if old[f] != getattr(user, f)]
    if changed:
        events.append(
            {
                "action": "accounts.user.update",
                "before": {f: old[f] for f in changed},
                "after": {f: getattr(user, f) for f in changed},
            }
        )
    if old["password"] != user.password and not _rehash(user, old["password"], update_fields):
        events.append(
            {"action": "accounts.password.change", "after": {"usable": _usable(user.password)}}
        )
    return events


def _rehash(user: Any, old_hash: str, update_fields: Iterable[str] | None) -> bool:
    """Django upgrading the stored hash of the same password at log-in (check_password).

    That path clears the raw password before saving only the hash; a real change
    (set_password, the admin's forms, changepassword) still holds it at save time.
    """
    return (
        update_fields is not None
        and set(update_fields) == {"password"}
        and getattr(user, "_password", None) is None
        and _usable(old_hash)
        and _usable(user.password)
    )


def user_pre_save(sender: Any, instance: Any, update_fields=None, **kwargs: Any) -> None:
    events = _user_events(instance, update_fields)
    if events:
        _require_transaction("Saving this account")
    setattr(instance, PENDING, events)


def user_post_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    for event in instance.__dict__.pop(PENDING, []):
        action = event.pop("action")
        record(action, obj=instance, extra={"username": instance.get_username()}, **event)


def user_pre_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    record(
        "accounts.user.delete",
        obj=instance,
        before={
            **{f: getattr(instance, f) for f in USER_FIELDS},
            "groups": sorted(instance.groups.values_list("name", flat=True)),
        },
    )


# --- groups: create, rename, delete ----------------------------------------------------------


def group_pre_save(sender: Any, instance: Group, update_fields=None, **kwargs: Any) -> None:
    if instance.pk is None or instance._state.adding:
        events = [{"action": "accounts.group.create", "after": {"name": instance.name}}]
    else:
        old = Group.objects.filter(pk=instance.pk).values_list("name", flat=True).first()
        events = (
            [
                {
                    "action": "accounts.group.update",
                    "before": {"name": old},
                    "after": {"name": instance.name},
                }
            ]
            if old is not None and old != instance.name and _tracked(update_fields, ["name"])
            else []
        )
    if events:
        _require_transaction("Saving this group")
    setattr(instance, PENDING, events)


def group_post_save(sender: Any, instance: Group, **kwargs: Any) -> None:
    for event in instance.__dict__.pop(PENDING, []):
        action = event.pop("action")
        record(action, obj=instance, **event)


def group_pre_delete(sender: Any, instance: Group, **kwargs: Any) -> None:
    record(
        "accounts.group.delete",
        obj=instance,
        before={
            "name": instance.name,
            "members": sorted(instance.user_set.values_list("username", flat=True)),
            "permissions": _permission_labels(instance.permissions.all()),
        },
    )


def _permission_labels(permissions: models.QuerySet) -> list[str]:
    return sorted(
        f"{app}.{codename}"
        for app, codename in permissions.values_list("content_type__app_label", "codename")
    )


# --- memberships and permissions: both directions, add / remove / clear ---------------------


@dataclass(frozen=True)
class Relation:
    """One many-to-many that grants rights: whose rights (subject) and in what (item)."""

    action: str
    key: str  # the list's name in before/after
    subject: type[models.Model]  # whose rights change: a user or a group
    subject_fk: str  # the through model's column of the subject
    item_fk: str  # … and of the item (group, permission)
    labels: tuple[str, ...]  # the item's label as a path from the through model
    name: Callable[[Any], str]


def _relations() -> dict[type[models.Model], Relation]:
    permission = ("permission__content_type__app_label", "permission__codename")
    return {
        User.groups.through: Relation(
            "accounts.user.groups",
            "groups",
            User,
            "user",
            "group",
            ("group__name",),
            lambda u: u.get_username(),
        ),
        User.user_permissions.through: Relation(
            "accounts.user.permissions",
            "permissions",
            User,
            "user",
            "permission",
            permission,
            lambda u: u.get_username(),
        ),
        Group.permissions.through: Relation(
            "accounts.group.permissions",
            "permissions",
            Group,
            "group",
            "permission",
            permission,
            lambda g: g.name,
        ),
    }


def _labels_of(relation: Relation, through: type[models.Model], ids: set[Any]) -> dict[Any, list]:
    held: dict[Any, list[str]] = {pk: [] for pk in ids}
    rows = through.objects.filter(**{f"{relation.subject_fk}_id__in": ids}).values_list(
        f"{relation.subject_fk}_id", *relation.labels
    )
    for pk, *parts in rows:
        held[pk].append(".".join(parts))
    return {pk: sorted(labels) for pk, labels in held.items()}


def m2m_rights_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set | None, **kwargs: Any
) -> None:
    relation = _relations().get(sender)
    if relation is None:
        return
    is_subject = isinstance(instance, relation.subject)
    if action.startswith("pre_"):
        if is_subject:
            subjects = {instance.pk}
        elif pk_set is not None:
            subjects = set(pk_set)
        else:  # clear() from the item's side: everyone who holds it
            subjects = set(
                sender.objects.filter(**{f"{relation.item_fk}_id": instance.pk}).values_list(
                    f"{relation.subject_fk}_id", flat=True
                )
            )
        instance.__dict__.setdefault(M2M_BEFORE, {})[sender] = _labels_of(
            relation, sender, subjects
        )
        return
    before = instance.__dict__.get(M2M_BEFORE, {}).pop(sender, {})
    if not before:
        return
    after = _labels_of(relation, sender, set(before))
    subjects = (
        {instance.pk: instance}
        if is_subject
        else relation.subject._default_manager.in_bulk(list(before))
    )
    for pk in sorted(before):
        if before[pk] != after[pk] and pk in subjects:
            record(
                relation.action,
                obj=subjects[pk],
                before={relation.key: before[pk]},
                after={relation.key: after[pk]},
                extra={"name": relation.name(subjects[pk])},
            )


# --- second factor: a confirmed device appears, goes, or changes ------------------------------


def _device_state(device: Device) -> dict[str, Any]:
    return {
        "user_id": device.user_id,
        "confirmed": device.confirmed,
        "key": getattr(device, "key", None),
    }


def device_pre_save(sender: Any, instance: Any, update_fields=None, **kwargs: Any) -> None:
    new = _device_state(instance)
    old = None
    if instance.pk is not None and not instance._state.adding:
        if not _tracked(update_fields, ("user", "user_id", "confirmed", "key")):
            setattr(instance, PENDING, [])
            return
        found = type(instance).objects.filter(pk=instance.pk).first()
        old = _device_state(found) if found is not None else None
    events: list[dict[str, Any]] = []
    was = bool(old and old["confirmed"])
    if new["confirmed"] and not was:
        events.append({"action": "accounts.otp.enable", "user_id": new["user_id"]})
    elif was and not new["confirmed"]:
        events.append({"action": "accounts.otp.disable", "user_id": old["user_id"]})
    elif was and (old["user_id"] != new["user_id"] or old["key"] != new["key"]):
        if old["user_id"] != new["user_id"]:
            events.append({"action": "accounts.otp.disable", "user_id": old["user_id"]})
            events.append({"action": "accounts.otp.enable", "user_id": new["user_id"]})
        else:
            events.append({"action": "accounts.otp.key_change", "user_id": new["user_id"]})
    if events:
        _require_transaction("Saving this second-factor device")
    setattr(instance, PENDING, events)


def device_post_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    for event in instance.__dict__.pop(PENDING, []):
        _record_device(event["action"], event["user_id"], instance)


def device_pre_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.confirmed:
        _record_device("accounts.otp.disable", instance.user_id, instance)


def _record_device(action: str, user_id: Any, device: Any) -> None:
    user = User.objects.filter(pk=user_id).first()
    record(
        action,
        object_type=User._meta.label_lower,
        object_id=user_id,
        extra={
            "username": user.get_username() if user is not None else None,
            "device": device.pk,
            "device_type": device._meta.label_lower,
        },
    )


# --- failed log-ins and lock-outs ---------------------------------------------------------


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any):
    username = str(credentials.get("username") or "")[:150]
    step = "code" if sender == "ztk.accounts.views" else "password"
    with transaction.atomic():
        record(
            "accounts.login.failed",
            object_type=User._meta.label_lower,
            object_id=_user_id(username),
            extra={"username": username, "step": step},
        )


def locked_out(sender: Any, request: Any = None, username: str | None = None, **kwargs: Any):
    username = str(username or "")[:150]
    with transaction.atomic():
        record(
            "accounts.login.locked_out",
            object_type=User._meta.label_lower,
            object_id=_user_id(username),
            extra={"username": username},
        )


def _user_id(username: str) -> Any:
    if not username:
        return ""
    return (
        User.objects.filter(**{User.USERNAME_FIELD: username}).values_list("pk", flat=True).first()
        or ""
    )


def connect() -> None:
    """Called once from AccountsConfig.ready()."""
    uid = "ztk.accounts.audit."
    pre_save.connect(user_pre_save, sender=User, dispatch_uid=uid + "user_pre_save")
    post_save.connect(user_post_save, sender=User, dispatch_uid=uid + "user_post_save")
    pre_delete.connect(user_pre_delete, sender=User, dispatch_uid=uid + "user_pre_delete")
    pre_save.connect(group_pre_save, sender=Group, dispatch_uid=uid + "group_pre_save")
    post_save.connect(group_post_save, sender=Group, dispatch_uid=uid + "group_post_save")
    pre_delete.connect(group_pre_delete, sender=Group, dispatch_uid=uid + "group_pre_delete")
    for through in _relations():
        m2m_changed.connect(m2m_rights_changed, sender=through, dispatch_uid=uid + through.__name__)
    # Devices of every installed django-otp plugin (TOTP today). Per model, never for all
    # senders: a pre_delete receiver for every model would end Django's fast deletes.
    for model in apps.get_models():
        if issubclass(model, Device):
            name = model._meta.label_lower
            pre_save.connect(device_pre_save, sender=model, dispatch_uid=f"{uid}pre_save {name}")
            post_save.connect(device_post_save, sender=model, dispatch_uid=f"{uid}post {name}")
            pre_delete.connect(device_pre_delete, sender=model, dispatch_uid=f"{uid}del {name}")
    user_login_failed.connect(login_failed, dispatch_uid=uid + "login_failed")
    user_locked_out.connect(locked_out, dispatch_uid=uid + "locked_out")
