"""Re-route pending requests (every registered type) when someone who decides them stops
being able to.

The organisation and the accounts are lower apps that must not import this one, and
Django's admin changes users without any service of ours, so the approvals app listens
to the model signals: an account deactivated, an employee who left, a user removed from
a group (HR). The re-routing itself is the service ``reroute_all``, run after the
change commits (a rolled-back change moves nothing; a failure is logged and the periodic
sweep ``tasks.reroute_stuck`` catches up, as it does for a lost superuser flag or a
delegation that comes into force).
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save

from ztk.org.models import Employee

from .services import reroute_all

log = logging.getLogger(__name__)
User = get_user_model()


def _reroute_after_commit(user_ids: set[int] | None) -> None:
    """Re-route the requests whose current step names these users (None: every request)."""

    def run() -> None:
        try:
            reroute_all(user_ids=user_ids)
        except Exception:  # noqa: BLE001 - the periodic sweep retries within minutes
            log.exception("approvals: re-routing after a change of %s failed", user_ids)

    transaction.on_commit(run)


def user_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created and not instance.is_active:
        _reroute_after_commit({instance.pk})


def employee_saved(sender, instance, created: bool, **kwargs) -> None:
    if created or instance.user_id is None:
        return
    if not instance.active or instance.leave_date is not None:
        _reroute_after_commit({instance.user_id})


def groups_changed(sender, instance, action: str, reverse: bool, pk_set=None, **kwargs) -> None:
    """``user.groups.remove(hr)`` and ``hr.user_set.remove(user)`` (or ``clear()``) alike."""
    if action not in ("post_remove", "post_clear"):
        return
    if not reverse:
        _reroute_after_commit({instance.pk})
    elif isinstance(instance, Group):
        _reroute_after_commit(set(pk_set) if pk_set else None)


def connect() -> None:
    post_save.connect(user_saved, sender=User, dispatch_uid="approvals.user_saved")
    post_save.connect(employee_saved, sender=Employee, dispatch_uid="approvals.employee_saved")
    m2m_changed.connect(
        groups_changed, sender=User.groups.through, dispatch_uid="approvals.groups_changed"
    )
