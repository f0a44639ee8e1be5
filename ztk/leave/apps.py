from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeaveConfig(AppConfig):
    name = "ztk.leave"
    label = "leave"
    verbose_name = _("Leave, outings and business trips")

    def ready(self) -> None:
        # registry: the adapter uses models, which can be imported only once apps are loaded
        from ztk.approvals.registry import register

        from .absence_services import ABSENCES

        register(ABSENCES)
