"""When OTP_REQUIRED_FOR_STAFF is on, HR and admins set up / pass a TOTP check before anything.

A stolen HR or admin password would expose every employee's data, so for those roles the
password alone does not open any page except the ones needed to finish the second factor.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from .rules import needs_second_factor

# Machine endpoints authenticate on their own and static files and the language switch
# carry no data. The API applies the same rule itself and answers a JSON 403
# `otp_required` (ztk/api/api.py), since a redirect means nothing to a script.
OPEN_PREFIXES = ("/static/", "/i18n/", "/iclock/", "/api/")
OPEN_URL_NAMES = (
    "accounts:login",
    "accounts:login_code",
    "accounts:logout",
    "accounts:otp_setup",
    "web:healthz",
    "web:metrics",  # a bearer token of its own (ztk/web/metrics.py)
)


def _open_paths() -> set[str]:
    return {reverse(name) for name in OPEN_URL_NAMES}


class RequireOTPMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._needs_second_factor(request):
            url = reverse("accounts:otp_setup")
            if request.method == "GET":
                url += "?" + urlencode({"next": request.get_full_path()})
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)  # a full page, not a swapped fragment
            return redirect(url)
        return self.get_response(request)

    @staticmethod
    def _needs_second_factor(request: HttpRequest) -> bool:
        path = request.path_info
        if path.startswith(OPEN_PREFIXES) or path in _open_paths():
            return False
        return needs_second_factor(getattr(request, "user", None))
