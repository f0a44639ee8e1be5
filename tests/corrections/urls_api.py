"""Test URLconf: the project's URLs plus the corrections router and download view, until
ztk/api/routers.py and config/urls.py mount them (then this is just the project's URLs).

The test API is a copy of the project's API (same authentication, same error envelope)
with the corrections router added, so the tests exercise exactly what will be mounted.
"""

from __future__ import annotations

from django.urls import include, path

from config import urls as project_urls
from ztk.api.api import ZtkNinjaAPI, api
from ztk.api.corrections import router

MOUNTED = any(r is router for _prefix, r, *_rest in api._router_registrations)


def _test_api() -> ZtkNinjaAPI:
    test_api = ZtkNinjaAPI(
        title="ZTK Attendance API (corrections test)",
        version="1-corrections-test",
        auth=api.auth,
        urls_namespace="api",
        openapi_url="/openapi.json",
        docs_url=None,
    )
    test_api._exception_handlers = dict(api._exception_handlers)
    for prefix, mounted, *_rest in api._router_registrations:
        test_api.add_router(prefix, mounted)
    test_api.add_router("", router)
    return test_api


def _downloads_mounted() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("corrections:attachment", args=[1], urlconf=project_urls)
    except NoReverseMatch:
        return False
    return True


urlpatterns = []
if not MOUNTED:
    urlpatterns.append(path("api/v1/", _test_api().urls))
if not _downloads_mounted():
    urlpatterns.append(path("corrections/", include("ztk.corrections.urls")))
urlpatterns += project_urls.urlpatterns
