from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "ztk.audit"
    label = "audit"
