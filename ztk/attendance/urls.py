"""Attendance pages; the project mounts these at /attendance/ and "/" renders `views.home`."""

from django.urls import path

from . import views

app_name = "attendance"

urlpatterns = [
    path("", views.home, name="home"),
    path("day/<str:day>/", views.my_day, name="day"),
    path("punch/photo/", views.punch_photo, name="punch_photo"),
    path("punch/<int:pk>/photo/", views.punch_photo_file, name="punch_photo_file"),
    path("team/", views.team, name="team"),
    path("lookup/", views.lookup, name="lookup"),
    path("people/<str:employee_no>/", views.employee_month, name="employee_month"),
    path("people/<str:employee_no>/<str:day>/", views.employee_day, name="employee_day"),
]
