"""The JSON API at /api/v1/: authentication, the error envelope and the routers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from ztk.accounts.services import api_key_authenticate
from ztk.core.errors import DomainError


class BearerKey(HttpBearer):
    openapi_description = "An API key: `Authorization: Bearer ztk_…` (`ztk create-api-key`)."

    def authenticate(self, request, token):
        user = api_key_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """Browser sessions, with Django's CSRF check on unsafe methods."""


api = NinjaAPI(
    title="ZTK Attendance API",
    version="1",
    description="Punches, attendance results and missed-punch corrections (补卡). "
    "Errors are JSON `{code, message, details?}`; messages follow Accept-Language.",
    auth=[BearerKey(), ActiveSessionAuth()],
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def _error(request, status: int, code: str, message: str, details=None):
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    details = [
        {
            "loc": [str(p) for p in e.get("loc", [])],
            "msg": str(e.get("msg", "")),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    return _error(request, 422, "validation_error", _("The request is not valid."), details)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(
        request, 401, "unauthorized", _("Authentication is required: a valid API key or session.")
    )


@api.exception_handler(AuthorizationError)
def on_authz_error(request, exc):
    return _error(request, 403, "permission_denied", _("You do not have permission to do this."))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return _error(request, 403, "permission_denied", _("You do not have permission to do this."))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    codes = {
        400: "bad_request",
        401: "unauthorized",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        429: "too_many_requests",
    }
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


from . import routers  # noqa: E402,F401  (registers the routers on `api`)
