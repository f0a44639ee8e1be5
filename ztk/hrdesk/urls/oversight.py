"""Approvals oversight for HR (审批监控); the project mounts these at /hr/oversight/."""

from django.urls import path

from ztk.hrdesk.views import oversight

app_name = "oversight"

urlpatterns = [
    path("", oversight.index, name="index"),
    path("<int:pk>/escalate/", oversight.escalate, name="escalate"),
]
