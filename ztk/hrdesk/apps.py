from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HrdeskConfig(AppConfig):
    name = "ztk.hrdesk"
    label = "hrdesk"
    verbose_name = _("HR desk")
