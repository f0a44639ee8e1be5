from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "ztk.oversight"
    label = "oversight"
    verbose_name = "oversight findings"
