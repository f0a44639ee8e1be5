"""Report pages; the project mounts these at /reports/."""

from django.urls import path

from . import web

app_name = "reports"

urlpatterns = [
    path("", web.monthly, name="monthly"),
    path("download/", web.download, name="download"),
    path("sheet/", web.my_sheet, name="my_sheet"),
    path("sheet/<str:employee_no>/", web.sheet, name="sheet"),
]
