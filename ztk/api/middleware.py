"""JSON errors for everything under /api/ that never reaches a django-ninja view.

The API itself answers its errors with the envelope (unknown paths under /api/v1/
included). What remains are Django-level errors: a path under /api/ outside /api/v1/,
a rejected Host header (400), a request body over DATA_UPLOAD_MAX_MEMORY_SIZE (400/413),
a CSRF failure of a non-API view, a server error raised in a middleware. This
middleware, placed FIRST in settings.MIDDLEWARE, rewrites any non-JSON error response
for /api/ into `{code, message}` in the request's language.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from .errors import as_json_error

API_PREFIX = "/api/"


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX) or request.path_info == API_PREFIX[:-1]:
            return as_json_error(request, response)
        return response
