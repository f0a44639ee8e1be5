from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "ztk.web"
    label = "web"
    verbose_name = _("Web pages")

    def ready(self) -> None:
        # The log-in page (accounts, a lower layer) offers "Sign in with DingTalk / WeCom /
        # Feishu" for each work app that is set up; the pages that do it live here.
        from ztk.accounts import signin_options  # noqa: PLC0415 - app registry ready only now

        from .workapp_signin import signin_options as workapp_options  # noqa: PLC0415

        signin_options.register(workapp_options)
