"""Test-only URLconf: the project's URLs plus the attendance pages at /attendance/.

Used with ``@pytest.mark.urls`` until config/urls.py mounts ``ztk.attendance.web_urls``;
once it does, this is just the project's URLconf.
"""

from django.urls import URLResolver, include, path

from config.urls import urlpatterns as project_urlpatterns

_mounted = any(
    isinstance(p, URLResolver) and p.namespace == "attendance" for p in project_urlpatterns
)
urlpatterns = [
    *([] if _mounted else [path("attendance/", include("ztk.attendance.web_urls"))]),
    *project_urlpatterns,
]
