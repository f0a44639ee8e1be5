from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ztk.api"
    label = "api"
