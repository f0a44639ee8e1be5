"""HR manual add (管理员手动添加); the project mounts these at /hr/manual/."""

from django.urls import path

from ztk.hrdesk.views import manual as manual_web

app_name = "manual"

urlpatterns = [
    path("", manual_web.index, name="index"),
    path("search/", manual_web.search, name="search"),
    path("add/", manual_web.add, name="add"),
    path("void/<int:punch_id>/", manual_web.void, name="void"),
]
