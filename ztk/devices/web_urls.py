"""HR pages for terminals; the project mounts this URLconf at /hr/devices/.

Serial numbers and group codes in the path must look like one (anything else is a 404
before any lookup: PostgreSQL refuses NUL even in a query).
"""

import re

from django.urls import path, register_converter

from ztk.org.models import code_validator

from . import web
from .models import SERIAL_PATTERN


class SerialConverter:
    regex = SERIAL_PATTERN.strip("^$")

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class GroupCodeConverter(SerialConverter):
    # The validator's compiled pattern (re.compile returns it as is; typed str | Pattern).
    regex = re.compile(code_validator.regex).pattern.strip("^$")


register_converter(SerialConverter, "serial")
register_converter(GroupCodeConverter, "groupcode")

app_name = "devices"

urlpatterns = [
    path("", web.index, name="index"),
    path("held/assign/", web.assign, name="assign"),
    path("held/dismiss/", web.dismiss, name="dismiss"),
    path("groups/<groupcode:code>/allow-list/", web.group_allow_list, name="group_allow_list"),
    path("<serial:serial>/", web.detail, name="detail"),
    path("<serial:serial>/approve/", web.approve, name="approve"),
    path("<serial:serial>/disable/", web.disable, name="disable"),
    path("<serial:serial>/update/", web.update, name="update"),
    path("<serial:serial>/command/", web.command, name="command"),
    path("<serial:serial>/photos/<int:pk>/", web.photo, name="photo"),
]
