"""Analytics pages; the project mounts these at /hr/analytics/ (docs/analytics.md)."""

from django.urls import path

from ..views import analytics as views

app_name = "analytics"

urlpatterns = [
    path("", views.index, name="index"),
    path("corrections/", views.corrections, name="corrections"),
    path("approvals/", views.approvals, name="approvals"),
    path("reminders/", views.reminders, name="reminders"),
    path("patterns/", views.patterns, name="patterns"),
    path("people/", views.people, name="people"),
]
