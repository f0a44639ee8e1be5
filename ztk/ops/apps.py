from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations on a whole installation (backup, restore): the top of the app layers,
    since they read every app's tables and verify the audit chain."""

    name = "ztk.ops"
    label = "ops"
