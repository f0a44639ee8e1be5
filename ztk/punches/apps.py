from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PunchesConfig(AppConfig):
    name = "ztk.punches"
    label = "punches"
    verbose_name = _("Punches")
