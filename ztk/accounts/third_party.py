"""Translated names for the third-party apps the Django admin shows as sections (log-in
lock-outs, authenticator devices): INSTALLED_APPS names these configs instead of the
libraries' own, which have no Chinese name."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpAppConfig


class AxesConfig(AxesAppConfig):
    verbose_name = _("Log-in lock-outs")


class TotpConfig(TotpAppConfig):
    verbose_name = _("Authenticator apps (two-factor)")
