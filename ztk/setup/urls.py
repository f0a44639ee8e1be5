from django.urls import path

from .views import api_keys, index, webhooks

app_name = "settings"

urlpatterns = [
    path("", index.index, name="index"),
    path("api-keys/", api_keys.index, name="api_keys"),
    path("api-keys/<str:key_id>/revoke/", api_keys.revoke, name="api_key_revoke"),
    path("webhooks/", webhooks.index, name="webhooks"),
    path("webhooks/<str:webhook_id>/", webhooks.detail, name="webhook"),
    path("webhooks/<str:webhook_id>/rotate/", webhooks.rotate, name="webhook_rotate"),
    path("webhooks/<str:webhook_id>/test/", webhooks.send_test, name="webhook_test"),
    path("webhooks/<str:webhook_id>/retry/", webhooks.retry, name="webhook_retry"),
]
