from django.urls import path

from .views import api_keys, groups, index

app_name = "settings"

urlpatterns = [
    path("", index.index, name="index"),
    path("api-keys/", api_keys.index, name="api_keys"),
    path("api-keys/<str:key_id>/revoke/", api_keys.revoke, name="api_key_revoke"),
    path("groups/", groups.index, name="groups"),
    path("groups/new/", groups.create, name="group_new"),
    path("groups/people/", groups.people, name="group_people"),
    path("groups/<str:code>/edit/", groups.edit, name="group_edit"),
    path("groups/<str:code>/terminals/", groups.terminals, name="group_terminals"),
    path("groups/<str:code>/members/", groups.members, name="group_members"),
    path("groups/<str:code>/members/add/", groups.members_add, name="group_members_add"),
    path("groups/<str:code>/members/remove/", groups.members_remove, name="group_members_remove"),
    path("groups/<str:code>/members/import/", groups.members_import, name="group_members_import"),
]
