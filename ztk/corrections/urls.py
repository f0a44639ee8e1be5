"""Mounted by the project at /corrections/."""

from django.urls import path

from . import views

app_name = "corrections"

urlpatterns = [
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
]
