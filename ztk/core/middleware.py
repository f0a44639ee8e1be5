from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .context import RequestInfo, client_ip, current_request
from .text import escape_forbidden


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(
            RequestInfo(
                ip=client_ip(request.META),
                # A header is input too: it reaches the audit log (PostgreSQL refuses NUL).
                user_agent=escape_forbidden(request.META.get("HTTP_USER_AGENT", "")[:400]),
                user=getattr(request, "user", None),
            )
        )
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class MaintenanceModeMiddleware:
    """While MAINTENANCE_MODE is on, writes are refused with 503 so nothing is half-written."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.MAINTENANCE_MODE and request.method not in SAFE_METHODS:
            message = _("The system is in maintenance; please try again later.")
            if request.path.startswith("/api/") or request.path.startswith("/iclock/"):
                return JsonResponse({"code": "maintenance", "message": message}, status=503)
            return HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
