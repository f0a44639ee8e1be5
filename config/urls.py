from django.contrib import admin
from django.urls import include, path

from ztk.api.api import api
from ztk.core.admin_site import label_admin_site

label_admin_site(admin.site)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("ztk.accounts.urls")),
    path("iclock/", include("ztk.devices.urls.iclock")),
    path("attendance/", include("ztk.attendance.urls")),
    path("hr/devices/", include("ztk.devices.urls.hr")),
    path("hr/manual/", include("ztk.hrdesk.urls.manual")),
    path("hr/desk/", include("ztk.hrdesk.urls.desk")),
    path("hr/periods/", include("ztk.closing.urls")),
    path("hr/oversight/findings/", include("ztk.oversight.urls.findings")),
    path("hr/oversight/warnings/", include("ztk.oversight.urls.warnings")),
    path("hr/analytics/", include("ztk.oversight.urls.analytics")),
    path("hr/oversight/", include("ztk.hrdesk.urls.oversight")),
    path("corrections/", include("ztk.corrections.urls.attachments")),
    path("requests/", include("ztk.corrections.urls.requests")),
    path("absences/", include("ztk.leave.urls")),
    path("settings/corrections/", include("ztk.corrections.urls.settings")),
    path("settings/delegations/", include("ztk.approvals.urls")),
    path("overtime/", include("ztk.overtime.urls.requests")),
    path("settings/overtime/", include("ztk.overtime.urls.settings")),
    path("notifications/", include("ztk.notifications.urls")),
    path("reports/", include("ztk.reports.urls")),
    path("settings/", include("ztk.setup.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("ztk.web.urls")),
]
# Uploaded files are never served by URL, not even under DEBUG: each one is served by a
# view that checks who may see it (ztk.core.uploads.file_response).
