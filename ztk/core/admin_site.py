"""The Django admin's titles, translated (zh-hans by default).

Here, inside ``ztk/``, rather than in ``config/urls.py``: the catalogue is extracted from
``ztk/`` only (scripts/messages.sh), so strings under ``config/`` would stay English.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _


def label_admin_site(site: AdminSite) -> None:
    """Give the admin its translated header, browser-tab title and index title."""
    site.site_header = _("ZTK Attendance administration")
    site.site_title = _("ZTK Attendance administration")
    site.index_title = _("Data administration")
