from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "ztk.approvals"
    label = "approvals"

    def ready(self) -> None:
        from . import receivers  # cycle: models load after the app registry is ready

        receivers.connect()
