from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "ztk.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # The channels to a person this app owns register themselves (channels.register);
        # the person's language is remembered at each sign-in; the work apps' background
        # job is registered with the worker (Huey finds only the apps' own tasks modules).
        # registry: they need the models loaded
        from . import mail, receivers, webpush  # noqa: F401
        from .workapps import send, tasks  # noqa: F401
