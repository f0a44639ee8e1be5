from django.apps import AppConfig


class HrdeskConfig(AppConfig):
    name = "ztk.hrdesk"
    label = "hrdesk"
