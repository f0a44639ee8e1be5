"""Attendance pages; the project mounts these at /attendance/ and "/" renders `web.home`."""

from django.urls import path

from . import web

app_name = "attendance"

urlpatterns = [
    path("", web.home, name="home"),
    path("day/<str:day>/", web.my_day, name="day"),
    path("punch/photo/", web.punch_photo, name="punch_photo"),
    path("punch/<int:pk>/photo/", web.punch_photo_file, name="punch_photo_file"),
    path("team/", web.team, name="team"),
    path("lookup/", web.lookup, name="lookup"),
    path("people/<str:employee_no>/", web.employee_month, name="employee_month"),
    path("people/<str:employee_no>/<str:day>/", web.employee_day, name="employee_day"),
]
