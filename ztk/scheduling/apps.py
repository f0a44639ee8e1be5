from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "ztk.scheduling"
    label = "scheduling"
