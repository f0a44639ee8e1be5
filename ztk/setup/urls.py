from django.urls import path

from .views import api_keys, index, schedules

app_name = "settings"

urlpatterns = [
    path("", index.index, name="index"),
    path("api-keys/", api_keys.index, name="api_keys"),
    path("api-keys/<str:key_id>/revoke/", api_keys.revoke, name="api_key_revoke"),
    path("schedules/", schedules.index, name="schedules"),
    path("schedules/patterns/<str:code>/", schedules.pattern, name="pattern"),
    path(
        "schedules/patterns/<str:code>/<str:day>/delete/",
        schedules.pattern_delete,
        name="pattern_delete",
    ),
    path("schedules/roster/", schedules.roster, name="roster"),
    path("schedules/roster/set/", schedules.roster_set, name="roster_set"),
    path("schedules/roster/fill/", schedules.roster_fill, name="roster_fill"),
    path("schedules/roster/copy/", schedules.roster_copy, name="roster_copy"),
    path("schedules/roster/export/", schedules.roster_export, name="roster_export"),
    path("schedules/roster/import/", schedules.roster_import, name="roster_import"),
]
