from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .context import RequestInfo, client_ip, current_request
from .errors import MAINTENANCE, MAINTENANCE_MESSAGE
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
RETRY_AFTER_SECONDS = 300
# Requests that change no data although they are POSTs: signing in and out (a session and
# django-axes' attempt log; a work app's sign-in code remembered), the language switch, the
# correction previews. Everything else that is not GET/HEAD/OPTIONS is refused while
# MAINTENANCE_MODE is on.
ALLOWED_IN_MAINTENANCE = frozenset(
    {
        "accounts:login",
        "accounts:login_code",
        "accounts:logout",
        "web:workapp_signin_done",  # DingTalk's sign-in posts its code (docs/work-apps.md)
        "admin:logout",
        "set_language",
        "requests:preview",
        "requests:detail_preview",
        "api:preview",
    }
)
# Fields never shown back (secrets) and never carried over (the form's own CSRF token).
SECRET_FIELD_WORDS = ("password", "secret", "otp")
MAX_SHOWN_CHARACTERS = 2000


class MaintenanceModeMiddleware:
    """MAINTENANCE_MODE=true makes the system read-only, e.g. during a migration or backup.

    - Pages load (with a banner: ``request.maintenance_mode``); people sign in and out.
    - A form sent meanwhile is refused with a page in the product's style (503) that shows
      what was typed, a "back to the form" that returns to it as it was (history.back:
      the browser restores typed values; its own back button does the same), and "send
      again" with the same values for when maintenance is over.
    - The API answers writes with 503 ``{"code": "maintenance", ...}`` and Retry-After.
    - Terminals (/iclock/) get 503 with Retry-After for every request: an ADMS terminal
      keeps every record it has not had an ``OK`` for and sends it again after its
      ErrorDelay, so no punch is lost and nothing is written meanwhile.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The project's own request attribute (templates and views read it).
        request.maintenance_mode = settings.MAINTENANCE_MODE  # type: ignore[attr-defined]
        if settings.MAINTENANCE_MODE and request.path_info.startswith("/iclock/"):
            return _unavailable(
                HttpResponse("maintenance\n", status=503, content_type="text/plain; charset=utf-8")
            )
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not settings.MAINTENANCE_MODE or request.method in SAFE_METHODS:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED_IN_MAINTENANCE:
            return None
        if request.path_info.startswith("/api/"):
            body = {"code": MAINTENANCE, "message": str(MAINTENANCE_MESSAGE)}
            return _unavailable(JsonResponse(body, status=503))
        return _unavailable(_refusal_page(request))


def _unavailable(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _refusal_page(request: HttpRequest) -> HttpResponse:
    """The friendly 503: what was sent, shown back and ready to send again."""
    from django.shortcuts import render
    from django.utils.http import url_has_allowed_host_and_scheme

    fields, files, unreadable = [], [], False
    try:
        for name in request.POST:
            if name == "csrfmiddlewaretoken":
                continue
            secret = any(word in name.lower() for word in SECRET_FIELD_WORDS)
            for value in request.POST.getlist(name):
                fields.append(
                    {
                        "name": name,
                        "value": value,
                        "shown": "••••••" if secret else value[:MAX_SHOWN_CHARACTERS],
                        "cut": not secret and len(value) > MAX_SHOWN_CHARACTERS,
                        "secret": secret,
                    }
                )
        files = [f.name for name in request.FILES for f in request.FILES.getlist(name)]
    except Exception:  # noqa: BLE001 - a malformed body: the page still explains
        unreadable = True
    referer = request.META.get("HTTP_REFERER", "")
    back = (
        referer
        if referer
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else "/"
    )
    return render(
        request,
        "maintenance.html",
        {
            "fields": fields,
            "files": files,
            "unreadable": unreadable,
            "back": back,
            "action": request.get_full_path(),
            "can_resend": not files and not unreadable and not any(f["secret"] for f in fields),
            "retry_minutes": RETRY_AFTER_SECONDS // 60,
        },
        status=503,
    )
