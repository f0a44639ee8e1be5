from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeaveConfig(AppConfig):
    name = "ztk.leave"
    label = "leave"
    verbose_name = _("Leave, outings and business trips")
