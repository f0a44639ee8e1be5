from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "ztk.devices"
    label = "devices"
    verbose_name = _("Terminals")

    def ready(self) -> None:
        # registry: selectors uses models, which can be imported only once apps are loaded
        from ztk.attendance import sources

        from .selectors import terminals_reported_after

        # Terminals are a source of punches: finalising a day asks whether all reported.
        sources.register(terminals_reported_after)
