"""The correction settings pages; the project mounts these at /settings/corrections/."""

from django.urls import path

from ..views import settings as views

app_name = "policy_settings"

urlpatterns = [
    path("", views.index, name="index"),
    path("<str:group>/", views.edit, name="edit"),
]
