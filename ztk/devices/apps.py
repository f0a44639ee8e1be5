from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "ztk.devices"
    label = "devices"

    def ready(self) -> None:
        # registry: selectors uses models, which can be imported only once apps are loaded
        from ztk.attendance import sources

        from .selectors import terminals_reported_after

        # Terminals are a source of punches: finalising a day asks whether all reported.
        sources.register(terminals_reported_after)
