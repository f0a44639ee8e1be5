"""When OTP_REQUIRED_FOR_STAFF is on, HR and admins must pass a TOTP check to go anywhere."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect

from ztk.org.rules import is_hr, is_sysadmin

OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/iclock/", "/api/")


class RequireOTPMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.OTP_REQUIRED_FOR_STAFF
            and user is not None
            and user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and (is_hr(user) or is_sysadmin(user))
            and not user.is_verified()
        ):
            return redirect("accounts:otp_setup")
        return self.get_response(request)
