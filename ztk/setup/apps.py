from django.apps import AppConfig


class SetupConfig(AppConfig):
    name = "ztk.setup"
    label = "setup"
