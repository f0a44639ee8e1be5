"""The installable app (PWA): the service worker and the page it shows offline.

The worker is served from the site root (``/sw.js``) so that its scope is the whole site,
and rendered from a template so that it names the static files by their hashed URLs: a
new release changes those URLs, hence the worker's bytes, and browsers install the new
worker. What it caches and why is in ``docs/pwa.md``.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

# Files every offline page needs, fetched when the worker installs.
SHELL_STATIC = (
    "ztk/app.css",
    "ztk/pwa.js",
    "ztk/icon.svg",
    "ztk/icon-192.png",
    "ztk/icon-512.png",
    "ztk/apple-touch-icon.png",
    "ztk/manifest.webmanifest",
    "django_htmx/htmx-2.min.js",  # the file {% htmx_script %} loads
    "attendance/attendance.css",
    "attendance/punch.js",
)


@require_safe
@cache_control(no_cache=True, max_age=0)
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = [static(path) for path in SHELL_STATIC]
    offline_url = reverse("web:offline")
    version = hashlib.sha256("\n".join([offline_url, *shell]).encode()).hexdigest()[:12]
    body = render_to_string(
        "web/sw.js",
        {
            "version": version,
            "shell": [offline_url, *shell],
            "offline_url": offline_url,
            "static_prefix": static(""),
            "icon_url": static("ztk/icon-192.png"),
            "inbox_url": _inbox_url(),
        },
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


def _inbox_url() -> str:
    try:
        return reverse("notifications:inbox")
    except NoReverseMatch:
        return "/"


@require_safe
def offline(request: HttpRequest) -> HttpResponse:
    """What the app shows for a page it has never kept a copy of, while offline. It holds
    no one's data: the worker fetches it once, at install, for everyone."""
    return render(request, "web/offline.html")
