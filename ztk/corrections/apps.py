from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    name = "ztk.corrections"
    label = "corrections"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
