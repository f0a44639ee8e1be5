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

        # People and templates go out to the terminals after every relevant change.
        # registry: models and receivers can be imported only once the apps are ready.
        from django.db.models.signals import post_delete, post_save

        from ztk.org.models import Employee

        from . import receivers
        from .models import Device, TerminalPin

        post_save.connect(receivers.employee_saved, sender=Employee, dispatch_uid="devices-emp")
        post_save.connect(receivers.device_saved, sender=Device, dispatch_uid="devices-device")
        post_save.connect(receivers.pin_changed, sender=TerminalPin, dispatch_uid="devices-pin")
        post_delete.connect(
            receivers.pin_changed, sender=TerminalPin, dispatch_uid="devices-pin-del"
        )
