"""The JSON API at /api/v1/: authentication, the error envelope and the routers.

- Authentication: `Authorization: Bearer ztk_…` (an API key, see `ztk create-api-key`) or
  the browser session, whose unsafe requests must carry Django's CSRF token. A key that
  is presented but unknown, revoked or belongs to an inactive user is refused with 401;
  it never falls back to the session. A session that still owes the staff second factor
  (OTP_REQUIRED_FOR_STAFF) is refused with 403 `otp_required` on every operation, as the
  pages redirect it: the rule is `ztk.accounts.rules.needs_second_factor`. An API key is a
  credential of its own, minted only on the server (`ztk create-api-key`), never by a
  session; it is not asked for a second factor.
- Errors: every error is JSON `{code, message, details?}` (see `errors.py`): service
  refusals (`DomainError`), validation, authentication, unknown paths, wrong methods and
  unexpected exceptions. The OpenAPI schema declares the envelope on every operation,
  so routers only declare their success responses (and any extra error status).
- Docs: /api/v1/docs (Swagger UI from django-ninja's bundled files, no CDN) and
  /api/v1/openapi.json.
"""

from __future__ import annotations

import inspect
import logging
from functools import wraps
from typing import Any

from django.core import signals
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path
from django.utils.log import log_response
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from ztk.accounts.rules import needs_second_factor
from ztk.accounts.services import api_key_authenticate
from ztk.core.errors import DomainError

from . import errors
from .docs import ASSET_URL_NAME, LocalSwagger, docs_asset
from .schemas import ErrorOut

logger = logging.getLogger("django.request")


class InvalidApiKey(AuthenticationError):
    """A bearer key was presented and refused: answer 401 instead of trying the session."""


class CsrfFailed(Exception):
    pass


class SecondFactorRequired(Exception):
    """A password-only session of a staff account: finish the TOTP step in the browser."""


class BearerKey(HttpBearer):
    openapi_description = "An API key: `Authorization: Bearer ztk_…` (`ztk create-api-key`)."

    def authenticate(self, request, token):
        user = api_key_authenticate(token.strip())
        if user is None:
            raise InvalidApiKey()
        request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """Browser sessions; unsafe methods need Django's CSRF token (X-CSRFToken header).

    The CSRF check runs only for a logged-in session, so an anonymous caller gets a
    clear 401 rather than a CSRF 403; a session that owes the second factor gets 403
    `otp_required` before anything else.
    """

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if needs_second_factor(user):
            raise SecondFactorRequired()
        exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not exempt and check_csrf(request) is not None:
            raise CsrfFailed()
        return user


class ZtkNinjaAPI(NinjaAPI):
    """NinjaAPI whose every URL answers errors with the envelope and whose schema says so."""

    def _get_urls(self) -> list[Any]:
        urls = [
            *super()._get_urls(),
            path("docs/assets/<str:name>", docs_asset, name=ASSET_URL_NAME),
        ]
        urls = [_wrap_pattern(u) for u in urls]
        # Last: any other path under /api/v1/ is a JSON 404, for every method.
        urls.append(re_path(r"^", _unknown_path, name="not-found"))
        return urls

    def get_openapi_operation_id(self, operation) -> str:
        # `org_employee_list` rather than `ztk_api_org_employee_list`: the router module
        # and the function name, so ids stay unique and stable as routers are added.
        module = operation.view_func.__module__.removeprefix("ztk.api.").replace(".", "_")
        name = operation.view_func.__name__
        return name if name.startswith(f"{module}_") else f"{module}_{name}"

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        _declare_errors(schema)
        return schema


api = ZtkNinjaAPI(
    title="ZTK Attendance API",
    version="1",
    description=(
        "Punches, attendance results, missed-punch corrections (补卡) and the employee/"
        "department sync for other systems.\n\n"
        "Authenticate with `Authorization: Bearer <API key>` or a browser session (unsafe "
        "methods then need the `X-CSRFToken` header). Every error is JSON "
        "`{code, message, details?}`: `code` is stable, `message` follows `Accept-Language` "
        "(`zh-hans` or `en`)."
    ),
    auth=[BearerKey(), ActiveSessionAuth()],
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs=LocalSwagger(),
    docs_url="/docs",
)


# --- exception handlers: everything becomes the envelope ----------------------------------


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return errors.error_response(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    details = [
        {
            "loc": [str(p) for p in e.get("loc", [])],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors
    ]
    return errors.error_response(request, 422, errors.VALIDATION_ERROR, details=details)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    code = errors.INVALID_API_KEY if isinstance(exc, InvalidApiKey) else errors.UNAUTHORIZED
    return errors.error_response(
        request, 401, code, headers={"WWW-Authenticate": 'Bearer realm="api"'}
    )


@api.exception_handler(CsrfFailed)
def on_csrf_failed(request, exc):
    return errors.error_response(request, 403, errors.CSRF_FAILED)


@api.exception_handler(SecondFactorRequired)
def on_second_factor_required(request, exc):
    return errors.error_response(request, 403, errors.OTP_REQUIRED)


@api.exception_handler(AuthorizationError)
def on_authz_error(request, exc):
    return errors.error_response(request, 403, errors.PERMISSION_DENIED)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return errors.error_response(request, 403, errors.PERMISSION_DENIED)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return errors.error_response(request, 404, errors.NOT_FOUND)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # ninja's own messages ("Cannot parse request body", …) are English: keep them as
    # details and give the translated message of the status.
    status = exc.status_code
    details = {"reason": str(exc)} if str(exc) else None
    return errors.error_response(request, status, errors.code_for_status(status), details=details)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return errors.error_response(request, 413, errors.TOO_LARGE)


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request, exc):
    # Django answers these with a 400 and logs them on the `django.security` logger.
    logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc))
    return errors.error_response(request, 400, errors.BAD_REQUEST)


@api.exception_handler(Exception)
def on_unexpected_error(request, exc: Exception):
    """A bug: log it like Django would (and let test clients re-raise it), answer JSON 500."""
    signals.got_request_exception.send(sender=None, request=request)
    response = errors.error_response(request, 500, errors.SERVER_ERROR)
    log_response(
        "Internal Server Error: %s",
        request.path,
        response=response,
        request=request,
        exception=exc,
    )
    return response


# --- URL-level errors: unknown paths, wrong methods, Http404 from non-ninja views ----------


def _unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return errors.error_response(request, 404, errors.NOT_FOUND)


_unknown_path.csrf_exempt = True  # type: ignore[attr-defined]  # it never changes anything


def _json_errors(view):
    """Turn plain error responses (ninja's 405, Http404 of the docs views) into the envelope."""
    if inspect.iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(request, *args, **kwargs):
            try:
                response = await view(request, *args, **kwargs)
            except Http404:
                return errors.error_response(request, 404, errors.NOT_FOUND)
            return errors.as_json_error(request, response)

        return async_wrapper

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return errors.error_response(request, 404, errors.NOT_FOUND)
        return errors.as_json_error(request, response)

    return wrapper


def _wrap_pattern(pattern):
    if not isinstance(pattern, URLPattern):
        return pattern
    return URLPattern(
        pattern.pattern, _json_errors(pattern.callback), pattern.default_args, pattern.name
    )


# --- OpenAPI: declare the error envelope on every operation --------------------------------

ERROR_SCHEMA_NAME = "ErrorOut"
ERROR_DESCRIPTIONS = {
    "400": "Malformed request (e.g. a body that is not JSON)",
    "401": "Not authenticated, or the API key is unknown or revoked",
    "403": (
        "Not allowed for this user (or, for a session: the CSRF check failed, or a staff"
        " account has not passed its second factor, `otp_required`)"
    ),
    "404": "Not found",
    "409": "Changed concurrently; retry",
    "422": "Invalid input, or refused by a business rule (see `code`)",
    "500": "Unexpected server error",
    "503": "Maintenance mode: writes are refused",
}
UNSAFE = {"post", "put", "patch", "delete"}


def _declare_errors(schema: dict) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault(ERROR_SCHEMA_NAME, ErrorOut.model_json_schema())
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for url, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = ["401", "403", "422", "500"]
            if "{" in url:
                statuses.append("404")
            if "requestBody" in operation:
                statuses.append("400")
            if method in UNSAFE:
                statuses += ["409", "503"]
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            for status in statuses:
                responses.setdefault(
                    status,
                    {
                        "description": ERROR_DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
            operation["responses"] = dict(sorted(responses.items()))


from . import routers  # noqa: E402,F401  (registers the routers on `api`)
