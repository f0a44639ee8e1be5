"""Delegation pages; the project mounts these at /settings/delegations/."""

from django.urls import path

from . import views

app_name = "delegations"

urlpatterns = [
    path("", views.delegations, name="index"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
]
