"""Log-in and second-factor forms, with widgets that suit a phone keyboard."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

# Django 5.2 changed the msgid of MinimumLengthValidator's error and its zh_Hans catalogue has
# not caught up, so the message showed in English. Naming it here puts it in our catalogue.
DJANGO_PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "min_length",
)

INVALID_CODE = _("That code is not right. Enter the current 6-digit code from your app.")


class LoginForm(AuthenticationForm):
    """Django's form; the second factor is a separate step so only users with a device see it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}
        )


class TokenForm(forms.Form):
    """One TOTP code, checked against the given device (django-otp throttles wrong codes)."""

    token = forms.CharField(
        label=_("Verification code"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
                "size": 8,
            }
        ),
    )

    def __init__(self, device: TOTPDevice, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit() or not self.device.verify_token(token):
            raise forms.ValidationError(INVALID_CODE, code="invalid_code")
        return token


class PasswordConfirmForm(forms.Form):
    """The account's password again, before a second-factor secret is shown.

    Checked through `authenticate`, so a wrong password counts towards the lock-out exactly
    like a wrong password at the log-in.
    """

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        again = authenticate(self.request, username=user.get_username(), password=password)
        if again is None or again.pk != user.pk:
            raise forms.ValidationError(_("That password is not right."), code="invalid_password")
        return password
