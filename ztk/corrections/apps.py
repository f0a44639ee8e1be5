from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    name = "ztk.corrections"
    label = "corrections"

    def ready(self) -> None:
        from ztk.approvals.registry import register

        from .services import CORRECTIONS  # cycle: models load after the registry is ready

        register(CORRECTIONS)
