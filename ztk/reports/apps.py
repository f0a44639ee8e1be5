from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "ztk.reports"
    label = "reports"
