from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "ztk.org"
    label = "org"
