from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    name = "ztk.corrections"
    label = "corrections"
