"""The HR desk (人事工作台): paper forms and the bulk import; the project mounts it at /hr/desk/."""

from django.urls import path

from ztk.hrdesk.views import desk as hr_web

app_name = "hrdesk"

urlpatterns = [
    path("", hr_web.index, name="index"),
    path("paper/", hr_web.paper_list, name="paper_list"),
    path("paper/new/", hr_web.paper_new, name="paper_new"),
    path("paper/slots/", hr_web.paper_slots, name="paper_slots"),
    path("paper/<int:pk>/", hr_web.paper_detail, name="paper_detail"),
    path("paper/<int:pk>/scan/", hr_web.paper_scan, name="paper_scan"),
    path("import/", hr_web.import_page, name="import"),
    path("import/template.csv", hr_web.import_template_csv, name="import_template_csv"),
    path("import/template.xlsx", hr_web.import_template_xlsx, name="import_template_xlsx"),
    path("import/preview/", hr_web.import_preview, name="import_preview"),
    path("import/commit/", hr_web.import_commit, name="import_commit"),
    path("import/jobs/<str:job_id>/", hr_web.import_job, name="import_job"),
    path("import/jobs/<str:job_id>/status/", hr_web.import_job_status, name="import_job_status"),
]
