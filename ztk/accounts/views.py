from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.forms import OTPAuthenticationForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from ztk.audit.services import record


class LoginForm(OTPAuthenticationForm):
    """Username and password; the verification code is asked only of users with a device."""

    otp_device = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("otp_device", None)
        self.fields.pop("otp_challenge", None)
        self.fields["otp_token"].label = _("Verification code (if you set one up)")
        self.fields["otp_token"].widget.attrs.update(
            {"autocomplete": "one-time-code", "inputmode": "numeric"}
        )

    def clean_otp(self, user):
        if user is None:
            return
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            return
        token = (self.cleaned_data.get("otp_token") or "").strip()
        if not token or not device.verify_token(token):
            from django import forms

            raise forms.ValidationError(
                _("Enter the 6-digit code from your authenticator app."), code="invalid_token"
            )
        user.otp_device = device


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        device = getattr(form.get_user(), "otp_device", None)
        if device is not None:
            otp_login(self.request, device)
        with transaction.atomic():
            record(
                "accounts.login",
                actor=self.request.user,
                object_type="auth.user",
                object_id=self.request.user.pk,
            )
        return response


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            record(
                "accounts.password.change",
                actor=self.request.user,
                object_type="auth.user",
                object_id=self.request.user.pk,
            )
        messages.success(self.request, _("Your password has been changed."))
        return response


@login_required
def otp_setup(request):
    """Set up a TOTP authenticator: show the QR code, confirm with one code."""
    device = TOTPDevice.objects.filter(user=request.user).first()
    if device is not None and device.confirmed and request.user.is_verified():
        return render(request, "accounts/otp_done.html")
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="default", confirmed=False)
    error = ""
    if request.method == "POST":
        token = request.POST.get("token", "").strip()
        if device.verify_token(token):
            with transaction.atomic():
                if not device.confirmed:
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                    record(
                        "accounts.otp.enable",
                        actor=request.user,
                        object_type="auth.user",
                        object_id=request.user.pk,
                    )
            otp_login(request, device)
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("web:home")
        error = _("The code is not right; try the current one.")
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    qr = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "qr": qr,
            "secret": secret,
            "error": error,
            "confirmed": device.confirmed,
            "required": settings.OTP_REQUIRED_FOR_STAFF,
        },
    )
