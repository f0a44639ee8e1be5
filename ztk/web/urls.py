from django.urls import path

from ztk.attendance import views as attendance_views
from ztk.corrections.views import requests as corrections_views

from . import pwa, views, workapp_signin, workapps

app_name = "web"

urlpatterns = [
    path("", attendance_views.home, name="home"),
    path("approvals/", corrections_views.inbox, name="approvals"),
    path("hr/", views.hr_home, name="hr"),
    path("audit/", views.audit_log, name="audit"),
    path("people/<str:employee_no>/", views.employee_profile, name="employee_profile"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/live", views.healthz_live, name="healthz_live"),
    path("metrics", views.metrics, name="metrics"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
    path("workapps/<str:platform>/callback", workapps.callback, name="workapp_callback"),
    path("workapps/<str:platform>/signin", workapp_signin.start, name="workapp_signin"),
    path("workapps/<str:platform>/signin/done", workapp_signin.done, name="workapp_signin_done"),
]
