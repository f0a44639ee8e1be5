from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "ztk.web"
    label = "web"
    verbose_name = _("Web pages")

    def ready(self) -> None:
        # The log-in page (accounts, a lower layer) offers "Sign in with DingTalk / WeCom /
        # Feishu" for each work app that is set up; the pages doing it live here.
        # registry: those pages use models, importable only once the apps are loaded
        from ztk.accounts import signin_options

        from .workapp_signin import signin_options as workapp_options

        signin_options.register(workapp_options)
