from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    name = "ztk.corrections"
    label = "corrections"

    def ready(self) -> None:
        # registry: services uses models, which can be imported only once apps are loaded
        from ztk.approvals.registry import register

        from .services import CORRECTIONS

        register(CORRECTIONS)
