"""The month close (月结) for HR; the project mounts these at /hr/periods/ (namespace
"periods", kept from when the close lived in attendance)."""

from django.urls import path

from . import views

app_name = "periods"

urlpatterns = [
    path("", views.index, name="index"),
    path("<str:group>/<str:start>/", views.detail, name="detail"),
    path("<str:group>/<str:start>/finalise/", views.finalise, name="finalise"),
    path("<str:group>/<str:start>/confirm/", views.confirm, name="confirm"),
    path("<str:group>/<str:start>/close/", views.close, name="close"),
    path("<str:group>/<str:start>/reopen/", views.reopen, name="reopen"),
]
