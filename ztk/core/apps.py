from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ztk.core"
    label = "core"
