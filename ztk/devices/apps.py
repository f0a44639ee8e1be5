from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "ztk.devices"
    label = "devices"

    def ready(self) -> None:
        # registry: attendance (below) asks whether a group's terminals have reported
        from ztk.attendance.finalise import register_terminals_reported_after

        from .selectors import terminals_reported_after

        register_terminals_reported_after(terminals_reported_after)
