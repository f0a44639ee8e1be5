from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "ztk.approvals"
    label = "approvals"

    def ready(self) -> None:
        # registry: receivers use models, which can be imported only once apps are loaded
        from . import receivers

        receivers.connect()
