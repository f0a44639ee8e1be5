"""Oversight findings pages; the project mounts these at /hr/oversight/findings/."""

from django.urls import path

from ..views import findings as views

app_name = "findings"

urlpatterns = [
    path("", views.index, name="index"),
    path("run/", views.run, name="run"),
    path("thresholds/", views.thresholds, name="thresholds"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/dismiss/", views.dismiss, name="dismiss"),
]
