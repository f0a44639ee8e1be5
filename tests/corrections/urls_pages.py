"""Test-only URLconf: the project's URLs plus the correction pages at /requests/.

Used with ``@pytest.mark.urls`` until config/urls.py mounts ``ztk.corrections.pages_urls``;
once it does, this is just the project's URLconf.
"""

from django.urls import URLResolver, include, path

from config.urls import urlpatterns as project_urlpatterns

_mounted = any(
    isinstance(p, URLResolver) and p.namespace == "requests" for p in project_urlpatterns
)
urlpatterns = [
    *([] if _mounted else [path("requests/", include("ztk.corrections.pages_urls"))]),
    *project_urlpatterns,
]
