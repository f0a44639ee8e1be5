"""Mounted by the project at /corrections/."""

from django.urls import path

from ..views import attachments as views

app_name = "corrections"

urlpatterns = [
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
]
