"""Test-local URLconf: the project's URLs plus what the lead has yet to mount.

The pages (ztk.notifications.urls, meant for /notifications/) and the API router (meant
for `api.add_router("", notifications_router)` in ztk/api/routers.py), the router on a
second API of the project's class with its auth and error handlers. It is placed first, so
it answers everything under /api/v1/ in these tests (other operations: JSON 404).
"""

from django.urls import URLResolver, include, path

from config.urls import urlpatterns as project_urlpatterns
from ztk.api.api import ZtkNinjaAPI
from ztk.api.api import api as project_api
from ztk.api.notifications import router as notifications_router

# The project's API class: the same error envelope for unknown paths and wrong methods.
test_api = ZtkNinjaAPI(
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
