"""Navigation by role: each person sees only the sections they can use."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from ztk.org import rules as org_rules

# (url name, label, who sees it)
SECTIONS = [
    ("web:home", _("My attendance"), lambda u: True),
    (
        "web:approvals",
        _("Approvals"),
        lambda u: (
            org_rules.is_supervisor(u) or org_rules.is_department_head(u) or org_rules.is_hr(u)
        ),
    ),  # noqa: E501
    ("web:hr", _("HR"), lambda u: org_rules.is_hr(u)),
    ("web:reports", _("Reports"), lambda u: org_rules.is_hr(u) or org_rules.is_sysadmin(u)),
    ("web:audit", _("Audit"), lambda u: org_rules.is_auditor(u) or org_rules.is_sysadmin(u)),
    ("admin:index", _("Settings"), lambda u: org_rules.is_sysadmin(u) or org_rules.is_hr(u)),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    current = request.path
    for name, label, visible in SECTIONS:
        if not visible(user):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = current == url if url == "/" else current.startswith(url)
        items.append({"url": url, "label": label, "active": active, "name": name})
    return {"nav_items": items}
