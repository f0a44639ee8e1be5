from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "ztk.approvals"
    label = "approvals"
