"""Interactive API docs (Swagger UI) at /api/v1/docs without any CDN.

django-ninja renders its CDN template (jsdelivr) unless "ninja" is in INSTALLED_APPS,
and even then its bundled files are only reachable through staticfiles. We keep
settings untouched and serve the few bundled files ourselves, from the installed
django-ninja package, under /api/v1/docs/assets/<name>.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import ninja
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation
from ninja.openapi.docs import DocsBase

from .errors import error_response

ASSET_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
        "favicon.svg",
        "favicon.png",
    }
)
ASSET_URL_NAME = "docs-asset"


class LocalSwagger(DocsBase):
    """Swagger UI from django-ninja's own copy; "try it out" sends the CSRF token."""

    template = "api/docs.html"
    settings: dict[str, Any] = {"layout": "BaseLayout", "deepLinking": True}

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        namespace = api.urls_namespace
        asset_url = reverse(f"{namespace}:{ASSET_URL_NAME}", kwargs={"name": "x", **kwargs})
        context = {
            "api": api,
            "swagger_settings": {**self.settings, "url": self.get_openapi_url(api, kwargs)},
            "asset_url": asset_url[: -len("x")],
            "csrf_token": get_token(request),
            "version": ninja.__version__,
            "LANGUAGE_CODE": translation.get_language(),
        }
        return HttpResponse(get_template(self.template).render(context))


def docs_asset(request: HttpRequest, name: str, **kwargs: Any) -> HttpResponseBase:
    """One of the whitelisted Swagger UI files; anything else is a JSON 404."""
    if name not in ASSETS or not (ASSET_DIR / name).is_file():
        return error_response(request, 404)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse((ASSET_DIR / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response
