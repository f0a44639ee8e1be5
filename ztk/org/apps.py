from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "ztk.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        # registry: role_permissions uses models, which load only after this module
        from .role_permissions import sync_role_groups

        # After every app's post_migrate, so permissions of apps listed later exist too.
        post_migrate.connect(sync_role_groups, dispatch_uid="ztk.org.roles")
