"""Attendance periods (月结) for HR; the project mounts these at /hr/periods/."""

from django.urls import path

from . import period_web

app_name = "periods"

urlpatterns = [
    path("", period_web.index, name="index"),
    path("<str:group>/<str:start>/", period_web.detail, name="detail"),
    path("<str:group>/<str:start>/finalise/", period_web.finalise, name="finalise"),
    path("<str:group>/<str:start>/close/", period_web.close, name="close"),
    path("<str:group>/<str:start>/reopen/", period_web.reopen, name="reopen"),
]
