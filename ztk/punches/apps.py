from django.apps import AppConfig


class PunchesConfig(AppConfig):
    name = "ztk.punches"
    label = "punches"
