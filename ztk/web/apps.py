from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ztk.web"
    label = "web"
