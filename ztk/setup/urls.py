from django.urls import path

from .views import api_keys, index, shifts

app_name = "settings"

urlpatterns = [
    path("", index.index, name="index"),
    path("api-keys/", api_keys.index, name="api_keys"),
    path("api-keys/<str:key_id>/revoke/", api_keys.revoke, name="api_key_revoke"),
    path("shifts/", shifts.index, name="shifts"),
    path("shifts/new/", shifts.create, name="shift_create"),
    path("shifts/preview/", shifts.preview, name="shift_preview"),
    path("shifts/<str:code>/edit/", shifts.edit, name="shift_edit"),
]
