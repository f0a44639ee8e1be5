"""Early-warning pages; the project mounts these at /hr/oversight/warnings/."""

from django.urls import path

from ..views import warnings as views

app_name = "warnings"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/resolve/", views.resolve, name="resolve"),
    path("<int:pk>/close/", views.close, name="close"),
]
