from django.urls import path

from .views import api_keys, geofences, holidays, index

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
]
