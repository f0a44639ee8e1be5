"""HR's overtime rules per attendance group; the project mounts them at /settings/overtime/."""

from django.urls import path

from .. import views

app_name = "overtime_settings"

urlpatterns = [path("", views.policy, name="policy")]
