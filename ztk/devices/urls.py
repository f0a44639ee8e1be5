"""ZKTeco push (ADMS / iclock) endpoints, mounted at /iclock/."""

from django.urls import path

app_name = "iclock"

urlpatterns: list = [
    # filled in by the terminals work (issue 4): cdata, getrequest, devicecmd, fdata, ...
]
