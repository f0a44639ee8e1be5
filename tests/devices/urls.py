"""Test-local URLconf: the project's URLs plus what the lead has yet to mount.

The HR pages (ztk.devices.web_urls, meant for /hr/devices/) and the devices API router
(meant for `api.add_router("", devices_router)` in ztk/api/routers.py). The router is
mounted on a second NinjaAPI with the same auth and error handlers, placed before the
project's API so it answers /api/v1/devices whether or not the project mounted it yet.
"""

from django.urls import include, path
from ninja import NinjaAPI

from config.urls import urlpatterns as project_urlpatterns
from ztk.api.api import api as project_api
from ztk.api.devices import router as devices_router

test_api = NinjaAPI(
    title="devices test API",
    version="test",
    auth=project_api.auth,
    urls_namespace="devices_test_api",
    docs_url=None,
    openapi_url=None,
)
test_api._exception_handlers = dict(project_api._exception_handlers)
test_api.add_router("", devices_router, url_name_prefix="devices_test")

urlpatterns = [
    path("hr/devices/", include("ztk.devices.web_urls")),
    path("api/v1/", test_api.urls),
    *project_urlpatterns,
]
