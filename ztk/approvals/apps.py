from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "ztk.approvals"
    label = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        # registry: receivers use models, which can be imported only once apps are loaded
        from . import receivers

        receivers.connect()
