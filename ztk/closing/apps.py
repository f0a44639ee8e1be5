from django.apps import AppConfig


class ClosingConfig(AppConfig):
    name = "ztk.closing"
    label = "closing"
