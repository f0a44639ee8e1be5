from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "ztk.devices"
    label = "devices"
