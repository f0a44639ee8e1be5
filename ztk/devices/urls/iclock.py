"""ZKTeco push (ADMS / iclock) endpoints, mounted at /iclock/.

Some firmware appends `.aspx` to every path (`/iclock/cdata.aspx`); both spellings work.
"""

from django.urls import re_path

from ..views import iclock as views

app_name = "iclock"

urlpatterns = [
    re_path(r"^cdata(?:\.aspx)?/?$", views.cdata, name="cdata"),
    re_path(r"^getrequest(?:\.aspx)?/?$", views.getrequest, name="getrequest"),
    re_path(r"^devicecmd(?:\.aspx)?/?$", views.devicecmd, name="devicecmd"),
    re_path(r"^fdata(?:\.aspx)?/?$", views.fdata, name="fdata"),
    re_path(r"^ping(?:\.aspx)?/?$", views.ping, name="ping"),
    # Protocol 3.x ("security push")
    re_path(r"^registry(?:\.aspx)?/?$", views.registry, name="registry"),
    re_path(r"^push(?:\.aspx)?/?$", views.push, name="push"),
    re_path(r"^querydata(?:\.aspx)?/?$", views.querydata, name="querydata"),
]
