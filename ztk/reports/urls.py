"""Report pages; the project mounts these at /reports/."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.monthly, name="monthly"),
    path("download/", views.download, name="download"),
    path("sheet/", views.my_sheet, name="my_sheet"),
    path("sheet/<str:employee_no>/", views.sheet, name="sheet"),
]
