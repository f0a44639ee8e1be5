from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "ztk.attendance"
    label = "attendance"
