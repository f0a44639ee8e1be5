from django.urls import path

from .views import api_keys, groups, index, shifts, webhooks

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
    path("groups/", groups.index, name="groups"),
    path("groups/new/", groups.create, name="group_new"),
    path("groups/people/", groups.people, name="group_people"),
    path("groups/<str:code>/edit/", groups.edit, name="group_edit"),
    path("groups/<str:code>/terminals/", groups.terminals, name="group_terminals"),
    path("groups/<str:code>/members/", groups.members, name="group_members"),
    path("groups/<str:code>/members/add/", groups.members_add, name="group_members_add"),
    path("groups/<str:code>/members/remove/", groups.members_remove, name="group_members_remove"),
    path("groups/<str:code>/members/import/", groups.members_import, name="group_members_import"),
    path("shifts/", shifts.index, name="shifts"),
    path("shifts/new/", shifts.create, name="shift_create"),
    path("shifts/preview/", shifts.preview, name="shift_preview"),
    path("shifts/<str:code>/edit/", shifts.edit, name="shift_edit"),
]
