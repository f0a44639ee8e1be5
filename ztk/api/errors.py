"""The API's error envelope `{code, message, details?}`: codes, messages, JSON responses.

Every error under /api/ goes through `error_response`, whether it comes from a service
(`DomainError`), from django-ninja (validation, authentication) or from Django itself
(unknown path, wrong method, bad Host, server error), so clients see one shape with a
stable `code` and a `message` in the request's language.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from ztk.core.errors import MAINTENANCE, MAINTENANCE_MESSAGE

# Stable machine codes (clients and tests import these).
BAD_REQUEST = "bad_request"
UNAUTHORIZED = "unauthorized"
INVALID_API_KEY = "invalid_api_key"
PERMISSION_DENIED = "permission_denied"
CSRF_FAILED = "csrf_failed"
OTP_REQUIRED = "otp_required"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
CONFLICT = "conflict"
TOO_LARGE = "too_large"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
VALIDATION_ERROR = "validation_error"
TOO_MANY_REQUESTS = "too_many_requests"
SERVER_ERROR = "server_error"
SERVICE_UNAVAILABLE = "service_unavailable"

MESSAGES: dict[str, Any] = {
    BAD_REQUEST: _("The request is malformed."),
    UNAUTHORIZED: _("Authentication is required: a valid API key or session."),
    INVALID_API_KEY: _("The API key is not valid or has been revoked."),
    PERMISSION_DENIED: _("You do not have permission to do this."),
    CSRF_FAILED: _("CSRF check failed: send the X-CSRFToken header matching the csrftoken cookie."),
    OTP_REQUIRED: _(
        "Your role requires two-factor authentication: enter the code from your authenticator"
        " app in the browser first."
    ),
    NOT_FOUND: _("Not found."),
    METHOD_NOT_ALLOWED: _("This method is not allowed here."),
    CONFLICT: _("The data was changed at the same time by someone else; please try again."),
    TOO_LARGE: _("The request is too large."),
    UNSUPPORTED_MEDIA_TYPE: _("The request body must be JSON."),
    VALIDATION_ERROR: _("The request is not valid."),
    TOO_MANY_REQUESTS: _("Too many requests; please slow down."),
    SERVER_ERROR: _("An unexpected error occurred. It has been logged; please try again later."),
    MAINTENANCE: MAINTENANCE_MESSAGE,
    SERVICE_UNAVAILABLE: _("The service is temporarily unavailable; please try again later."),
}

# The code used when all we know is the HTTP status (Django-level errors, ninja HttpError).
STATUS_CODES: dict[int, str] = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    409: CONFLICT,
    413: TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    422: VALIDATION_ERROR,
    429: TOO_MANY_REQUESTS,
    500: SERVER_ERROR,
    503: SERVICE_UNAVAILABLE,
}

# Headers worth keeping when an error response is rewritten into the envelope.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def code_for_status(status: int) -> str:
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    return SERVER_ERROR if status >= 500 else BAD_REQUEST


def error_body(code: str, message: Any = None, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "message": force_str(message if message is not None else MESSAGES.get(code, code)),
    }
    if details is not None:
        body["details"] = details
    return body


def error_response(
    request: HttpRequest | None,
    status: int,
    code: str | None = None,
    message: Any = None,
    details: Any = None,
    *,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """A JSON error rendered in the request's language, whatever language is active."""
    code = code or code_for_status(status)
    language = _request_language(request)
    with translation.override(language):
        body = error_body(code, message, details)
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    if request is not None and "Content-Language" not in response:
        response["Content-Language"] = language or translation.get_language()
    return response


def is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


def as_json_error(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Rewrite a non-JSON error response (HTML 404, plain 405, …) into the envelope."""
    if response.status_code < 400 or is_json(response):
        return response
    kept = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    return error_response(request, response.status_code, headers=kept)


def _request_language(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    language = getattr(request, "LANGUAGE_CODE", None)
    if language:
        return language
    try:
        return translation.get_language_from_request(request)
    except Exception:  # noqa: BLE001 - a broken request must still get an error body
        return None
