"""Test-only URLconf: the project's URLs plus the HR desk at /hr/desk/.

Used with ``@pytest.mark.urls`` until config/urls.py mounts ``ztk.corrections.hr_urls``;
once it does, this is just the project's URLconf.
"""

from django.urls import URLResolver, include, path

from config.urls import urlpatterns as project_urlpatterns

_mounted = any(isinstance(p, URLResolver) and p.namespace == "hrdesk" for p in project_urlpatterns)
urlpatterns = [
    *([] if _mounted else [path("hr/desk/", include("ztk.corrections.hr_urls"))]),
    *project_urlpatterns,
]
