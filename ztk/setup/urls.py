from django.urls import path

from .views import api_keys, index

app_name = "settings"

urlpatterns = [
    path("", index.index, name="index"),
    path("api-keys/", api_keys.index, name="api_keys"),
    path("api-keys/<str:key_id>/revoke/", api_keys.revoke, name="api_key_revoke"),
]
