"""HR pages for terminals; the project mounts this URLconf at /hr/devices/."""

from django.urls import path

from . import web

app_name = "devices"

urlpatterns = [
    path("", web.index, name="index"),
    path("held/assign/", web.assign, name="assign"),
    path("held/dismiss/", web.dismiss, name="dismiss"),
    path("groups/<str:code>/allow-list/", web.group_allow_list, name="group_allow_list"),
    path("<str:serial>/", web.detail, name="detail"),
    path("<str:serial>/approve/", web.approve, name="approve"),
    path("<str:serial>/disable/", web.disable, name="disable"),
    path("<str:serial>/update/", web.update, name="update"),
    path("<str:serial>/command/", web.command, name="command"),
    path("<str:serial>/photos/<int:pk>/", web.photo, name="photo"),
]
