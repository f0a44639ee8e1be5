from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "ztk.notifications"
    label = "notifications"
