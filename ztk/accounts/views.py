"""Log-in (password, then a TOTP code for users who set one up), log-out, password, 2FA, unlock."""

from __future__ import annotations

import base64
import io
import time
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from ztk.core.errors import DomainError

from . import selectors, services, signin_options
from .forms import LoginForm, PasswordConfirmForm, TokenForm

User = get_user_model()

# Between the password step and the code step the session holds only this small record; the
# user is not logged in until the code is right.
PENDING_LOGIN = "ztk_pending_login"
PENDING_SECONDS = 300
# When the password was last entered in this session. The secret that sets up a second
# factor is shown only within this window: a session alone (a borrowed browser, a stolen
# cookie) must not be able to enrol its own authenticator for the account.
PASSWORD_AT = "ztk_password_at"
PASSWORD_FRESH_SECONDS = 600


def _password_entered(request: HttpRequest) -> None:
    request.session[PASSWORD_AT] = int(time.time())


def _password_fresh(request: HttpRequest) -> bool:
    return time.time() - request.session.get(PASSWORD_AT, 0) <= PASSWORD_FRESH_SECONDS


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _count_failure(request: HttpRequest, username: str) -> None:
    """A wrong code counts like a wrong password, so codes cannot be guessed endlessly."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def _locked_out(request: HttpRequest, username: str) -> bool:
    return settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(
        request, {"username": username}
    )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        return first_factor_passed(self.request, form.get_user(), next_url=self.get_success_url())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # "Sign in with DingTalk / WeCom / Feishu" where the company set that app up.
        return super().get_context_data(**kwargs) | {"other_ways": signin_options.options()}


def first_factor_passed(
    request: HttpRequest, user: Any, *, next_url: str, via: str = "password"
) -> HttpResponse:
    """The one owner of what follows the first factor (the password, or a work app that
    vouched for the person, ``via`` its platform): an account with a second factor goes on
    to the code step and is not logged in before the code is right; any other is logged in
    now. `next_url` must already be a safe local address."""
    if via != "password" and _locked_out(request, user.get_username()):
        # Locked out by wrong passwords or codes: no other way in until HR unlocks it or the
        # cool-off ends, or a work app would get around the lock-out.
        return get_lockout_response(request, None, {"username": user.get_username()})
    device = selectors.totp_device_of(user)
    if device is None:
        auth_login(request, user)
        if via == "password":
            _password_entered(request)
        services.login_record(user=user, second_factor=False, via=via)
        return HttpResponseRedirect(next_url)
    request.session[PENDING_LOGIN] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "since": int(time.time()),
        "via": via,
    }
    return redirect("accounts:login_code")


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Second step of the log-in: the code from the authenticator app."""
    pending: dict[str, Any] | None = request.session.get(PENDING_LOGIN)
    user = device = None
    if pending and time.time() - pending.get("since", 0) <= PENDING_SECONDS:
        user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
        device = selectors.totp_device_of(user)
    if user is None or device is None:
        request.session.pop(PENDING_LOGIN, None)
        messages.info(request, _("Please log in again."))
        return redirect("accounts:login")
    username = user.get_username()
    if _locked_out(request, username):
        request.session.pop(PENDING_LOGIN, None)
        return get_lockout_response(request, None, {"username": username})

    form = TokenForm(device, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            del request.session[PENDING_LOGIN]
            user.backend = pending["backend"]
            auth_login(request, user)
            otp_login(request, device)
            via = pending.get("via") or "password"
            if via == "password":
                _password_entered(request)
            services.login_record(user=user, second_factor=True, via=via)
            return HttpResponseRedirect(_safe_next(request, pending.get("next")))
        _count_failure(request, username)
        if getattr(request, "axes_locked_out", False):
            request.session.pop(PENDING_LOGIN, None)  # AxesMiddleware shows the lock-out page
    return render(request, "accounts/login_code.html", {"form": form, "username": username})


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            services.logout_record(user=request.user)
        response = super().post(request, *args, **kwargs)
        # The installable app keeps copies of my pages on the device: signing out drops them
        # (the service worker also drops them when the next page names no one).
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form) -> HttpResponse:
        services.password_change(user=form.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, form.user)  # stay logged in here, not elsewhere
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(self.get_success_url())


def _qr_data_uri(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _group_secret(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@sensitive_post_parameters("token", "password")
@never_cache
@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Set up a TOTP authenticator, or — for a session older than the device — enter a code.

    A confirmed device's secret is never shown again: someone holding only a password
    session must not be able to copy the second factor. A new device's secret is shown
    only within PASSWORD_FRESH_SECONDS of entering the password (at the log-in or here).
    """
    user = request.user
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    confirmed = selectors.totp_device_of(user)
    if confirmed is not None and user.is_verified():
        return render(request, "accounts/otp_done.html")
    if confirmed is None and not _password_fresh(request):
        return _confirm_password(request, next_url)

    device = confirmed or services.otp_device_prepare(user=user)
    form = TokenForm(device, request.POST or None)
    if confirmed is None:
        # The instructions and the QR code come first; focusing the field would scroll past them.
        form.fields["token"].widget.attrs.pop("autofocus", None)
    if request.method == "POST":
        if form.is_valid():
            if confirmed is None:
                services.otp_device_confirm(user=user, device=device)
                messages.success(request, _("Two-factor authentication is on."))
            otp_login(request, device)
            return HttpResponseRedirect(next_url)
        if confirmed is not None:
            _count_failure(request, user.get_username())

    context = {
        "form": form,
        "next": next_url,
        "required": settings.OTP_REQUIRED_FOR_STAFF,
        "verify_only": confirmed is not None,
    }
    if confirmed is None:
        context |= {"qr": _qr_data_uri(device), "secret": _group_secret(device)}
    return render(request, "accounts/otp_setup.html", context)


def _confirm_password(request: HttpRequest, next_url: str) -> HttpResponse:
    """The password again before the set-up page shows a new secret (wrong ones count)."""
    posted = request.method == "POST" and "password" in request.POST
    form = PasswordConfirmForm(request, request.POST if posted else None)
    if posted and form.is_valid():
        _password_entered(request)
        return redirect(f"{reverse('accounts:otp_setup')}?{urlencode({'next': next_url})}")
    context = {
        "form": form,
        "next": next_url,
        "required": settings.OTP_REQUIRED_FOR_STAFF,
        "confirm_password": True,
    }
    return render(request, "accounts/otp_setup.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def lockouts(request: HttpRequest) -> HttpResponse:
    """HR and system admins see who is locked out and can let them in again."""
    if not request.user.has_perm("accounts.unlock_account"):
        raise PermissionDenied
    if request.method == "POST":
        username = request.POST.get("username", "")
        try:
            services.account_unlock(actor=request.user, username=username)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("%(username)s can log in again.") % {"username": username.strip()}
            )
        return redirect("accounts:lockouts")
    return render(
        request,
        "accounts/lockouts.html",
        {"lockouts": selectors.lockouts(), "limit": selectors.failure_limit()},
    )
