from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ztk.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from . import (
            checks,  # noqa: F401  (registers the deploy checks)
            receivers,
        )
        from .admin_site import guard_admin_site

        receivers.connect()

        guard_admin_site(admin.site)
