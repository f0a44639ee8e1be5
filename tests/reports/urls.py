"""Test-only URLconf: the project's URLs plus the report pages and API router when unmounted.

Until config/urls.py mounts ``ztk.reports.urls`` at /reports/ and ztk/api/routers.py adds
the reports router, these tests mount both here; once the project does, this is just the
project's URLconf.
"""

from django.urls import URLResolver, include, path

from config.urls import urlpatterns as project_urlpatterns
from ztk.api.api import ZtkNinjaAPI, api
from ztk.api.reports import router as reports_router

PAGES_MOUNTED = any(
    isinstance(p, URLResolver) and p.namespace == "reports" for p in project_urlpatterns
)
API_MOUNTED = any(router is reports_router for _prefix, router in api._routers)

extra = []
if not PAGES_MOUNTED:
    extra.append(path("reports/", include("ztk.reports.urls")))
if not API_MOUNTED:
    # The same router on an API with the project's authentication and error handlers.
    test_api = ZtkNinjaAPI(
        title="reports (test)",
        version="test",
        urls_namespace="reports_test_api",
        auth=api.auth,
        openapi_url=None,
        docs_url=None,
    )
    test_api._exception_handlers = dict(api._exception_handlers)
    test_api.add_router("", reports_router)
    extra.append(path("api/v1/", test_api.urls))

urlpatterns = [*extra, *project_urlpatterns]
