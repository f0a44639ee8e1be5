"""Test-only URLconf: the project's URLs plus HR manual add at /hr/manual/.

Used with ``@pytest.mark.urls`` until config/urls.py mounts ``ztk.corrections.manual_urls``;
once it does, this is just the project's URLconf.
"""

from django.urls import URLResolver, include, path

from config.urls import urlpatterns as project_urlpatterns

_mounted = any(isinstance(p, URLResolver) and p.namespace == "manual" for p in project_urlpatterns)
urlpatterns = [
    *([] if _mounted else [path("hr/manual/", include("ztk.corrections.manual_urls"))]),
    *project_urlpatterns,
]
