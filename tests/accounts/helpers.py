"""Small helpers shared by the accounts and web tests."""

from __future__ import annotations

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD

LOGIN_URL = "/accounts/login/"
CODE_URL = "/accounts/login/code/"
OTP_URL = "/accounts/otp/"


def log_in(client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **extra)


def code_for(device: TOTPDevice, *, drift: int = 0) -> str:
    """The code an authenticator app would show now (drift +1: the next 30-second step)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{code:0{device.digits}d}"


def audit_actions(action: str):
    from ztk.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(action=action).order_by("seq"))
