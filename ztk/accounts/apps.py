from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "ztk.accounts"
    label = "accounts"
    verbose_name = _("Accounts and sign-in")

    def ready(self) -> None:
        # registry: these modules use models, which can be imported only once apps are loaded
        from django.contrib import admin

        from . import (
            checks,  # noqa: F401  (registers the deploy checks)
            receivers,
        )
        from .admin_site import guard_admin_site

        receivers.connect()

        guard_admin_site(admin.site)
