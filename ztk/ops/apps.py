from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations on a whole installation (backup, restore): the top of the app layers,
    since they read every app's tables and verify the audit chain."""

    name = "ztk.ops"
    label = "ops"
    verbose_name = _("Operations")
