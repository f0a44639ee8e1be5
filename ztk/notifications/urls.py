"""The inbox and the HR page for group robots; the project mounts these at /notifications/."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.mark_read, name="read"),
    path("reminders/", views.reminders, name="reminders"),
    path("push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("robots/", views.robots, name="robots"),
    path("robots/new/", views.robot_edit, name="robot_new"),
    path("robots/<int:pk>/", views.robot_edit, name="robot_edit"),
    path("robots/<int:pk>/delete/", views.robot_delete, name="robot_delete"),
    path("robots/<int:pk>/test/", views.robot_test, name="robot_test"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("outbox/retry/", views.outbox_retry, name="outbox_retry"),
]
