"""The role groups and the model permissions they carry, kept in step on every migrate.

Roles are the single source of truth: HR edits the organisation, schedules and policies in
the settings area (Django admin) because they are HR, not because someone ticked boxes.
Append-only records (punches, audit events) are never editable through the admin, so their
change/delete permissions are granted to nobody.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from .roles import AUDITOR, HR, SYSADMIN

HR_APPS = ["org", "scheduling", "punches", "devices", "corrections", "notifications", "attendance"]
AUDITOR_APPS = ["audit", "org", "punches", "attendance", "corrections", "devices"]
NEVER = Q(content_type__app_label="audit", codename__regex=r"^(add|change|delete)_") | Q(
    content_type__app_label="punches", codename__in=["add_punch", "add_punchvoid"]
)


def permissions_for(role: str):
    if role == SYSADMIN:
        base = Permission.objects.all()
    elif role == HR:
        base = Permission.objects.filter(content_type__app_label__in=HR_APPS)
    elif role == AUDITOR:
        base = Permission.objects.filter(
            content_type__app_label__in=AUDITOR_APPS, codename__startswith="view_"
        )
    else:
        return Permission.objects.none()
    return base.exclude(NEVER)


def sync_role_groups(**kwargs) -> None:
    """post_migrate: make sure the groups exist and hold exactly their role's permissions."""
    for role in (HR, SYSADMIN, AUDITOR):
        group, _created = Group.objects.get_or_create(name=role)
        wanted = set(permissions_for(role).values_list("pk", flat=True))
        current = set(group.permissions.values_list("pk", flat=True))
        if wanted != current:
            group.permissions.set(wanted)
