from django.urls import path

from .views import api_keys, geofences, groups, holidays, index, reminders, schedules, shifts

app_name = "settings"

urlpatterns = [
    path("", index.index, name="index"),
    path("api-keys/", api_keys.index, name="api_keys"),
    path("api-keys/<str:key_id>/revoke/", api_keys.revoke, name="api_key_revoke"),
    path("holidays/", holidays.current, name="holidays_current"),
    path("holidays/<int:year>/", holidays.year_page, name="holidays"),
    path("holidays/<int:year>/import/", holidays.import_package, name="holidays_import"),
    path("holidays/<int:year>/confirm/", holidays.confirm, name="holidays_confirm"),
    path("holidays/<int:year>/import-file/", holidays.import_file, name="holidays_import_file"),
    path("geofences/", geofences.index, name="geofences"),
    path("geofences/new/", geofences.new, name="geofence_new"),
    path("geofences/<str:code>/edit/", geofences.edit, name="geofence_edit"),
    path("groups/", groups.index, name="groups"),
    path("groups/new/", groups.create, name="group_new"),
    path("groups/people/", groups.people, name="group_people"),
    path("groups/<str:code>/edit/", groups.edit, name="group_edit"),
    path("groups/<str:code>/terminals/", groups.terminals, name="group_terminals"),
    path("groups/<str:code>/members/", groups.members, name="group_members"),
    path("groups/<str:code>/members/add/", groups.members_add, name="group_members_add"),
    path("groups/<str:code>/members/remove/", groups.members_remove, name="group_members_remove"),
    path("groups/<str:code>/members/import/", groups.members_import, name="group_members_import"),
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
    path("reminders/", reminders.index, name="reminders"),
    path("reminders/<str:code>/", reminders.edit, name="reminder_edit"),
    path("shifts/", shifts.index, name="shifts"),
    path("shifts/new/", shifts.create, name="shift_create"),
    path("shifts/preview/", shifts.preview, name="shift_preview"),
    path("shifts/<str:code>/edit/", shifts.edit, name="shift_edit"),
]
