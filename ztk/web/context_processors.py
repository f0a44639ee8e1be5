"""Navigation by role: each person sees only the sections they can use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ztk.org import rules


@dataclass(frozen=True)
class Section:
    url_name: str
    label: Promise
    visible: Callable[[Any], bool]


SECTIONS = [
    Section("web:home", _("My attendance"), lambda user: True),
    Section("web:approvals", _("Approvals"), rules.can_approve),
    Section("attendance:team", _("Team"), rules.can_see_team),
    Section("web:hr", _("HR"), rules.can_use_hr),
    # heads reach their early warnings here (HR from the hub, auditors from the audit log)
    Section(
        "warnings:index",
        _("Warnings"),
        lambda user: rules.is_department_head(user) and not rules.can_see_findings(user),
    ),
    Section("reports:monthly", _("Reports"), rules.can_see_reports),
    Section("web:audit", _("Audit"), rules.can_see_audit),
    Section("settings:index", _("Settings"), rules.can_view_settings),
]


def navigation(request) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for section in SECTIONS:
        if not section.visible(user):
            continue
        try:
            url = reverse(section.url_name)
        except NoReverseMatch:  # a section whose app is not installed
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"url": url, "label": section.label, "active": active})
    return {
        "nav_items": items,
        "can_unlock_accounts": user.has_perm("accounts.unlock_account"),
        # "while I am away": anyone who may hold an approval step, and HR for anyone
        "can_delegate": bool(rules.can_approve(user) or rules.is_sysadmin(user)),
    }
