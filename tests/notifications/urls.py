"""Test-local URLconf: the project's URLs plus what the lead has yet to mount.

The pages (ztk.notifications.urls, meant for /notifications/) and the API router (meant
for `api.add_router("", notifications_router)` in ztk/api/routers.py), the router on a
second NinjaAPI with the project's auth and error handlers, placed first so it answers
/api/v1/notifications whether or not the project mounted it yet.
"""

from django.urls import URLResolver, include, path
from ninja import NinjaAPI

from config.urls import urlpatterns as project_urlpatterns
from ztk.api.api import api as project_api
from ztk.api.notifications import router as notifications_router

test_api = NinjaAPI(
    title="notifications test API",
    version="test",
    auth=project_api.auth,
    urls_namespace="notifications_test_api",
    docs_url=None,
    openapi_url=None,
)
test_api._exception_handlers = dict(project_api._exception_handlers)
test_api.add_router("", notifications_router, url_name_prefix="notifications_test")

_mounted = any(
    isinstance(p, URLResolver) and p.namespace == "notifications" for p in project_urlpatterns
)
urlpatterns = [
    *([] if _mounted else [path("notifications/", include("ztk.notifications.urls"))]),
    path("api/v1/", test_api.urls),
    *project_urlpatterns,
]
