from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "ztk.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # The channels to a person this app owns register themselves (channels.register);
        # the person's language is remembered at each sign-in.
        # registry: they need the models loaded
        from . import mail, receivers, webpush  # noqa: F401
