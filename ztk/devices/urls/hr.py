"""HR pages for terminals; the project mounts this URLconf at /hr/devices/.

Serial numbers and group codes in the path must look like one (anything else is a 404
before any lookup: PostgreSQL refuses NUL even in a query).
"""

import re

from django.urls import path, register_converter

from ztk.org.models import code_validator

from ..models import SERIAL_PATTERN
from ..views import hr as views
from ..views import imports, people


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
    path("", views.index, name="index"),
    # Before <serial:serial>/: "import" could be a serial.
    path("import/", imports.page, name="import"),
    path("import/check/", imports.check, name="import_check"),
    path("import/commit/", imports.commit, name="import_commit"),
    path("import/jobs/<uuid:job_id>/", imports.job, name="import_job"),
    path("import/jobs/<uuid:job_id>/status/", imports.job_status, name="import_job_status"),
    path("pins/", people.pins, name="pins"),
    path("pins/save/", people.pin_save, name="pin_save"),
    path("pins/<int:pk>/delete/", people.pin_delete, name="pin_delete"),
    path("biometrics/", people.biometrics, name="biometrics"),
    path("biometrics/withdraw/", people.consent_withdraw, name="consent_withdraw"),
    path("biometrics/restore/", people.consent_restore, name="consent_restore"),
    path("held/assign/", views.assign, name="assign"),
    path("held/dismiss/", views.dismiss, name="dismiss"),
    path("groups/<groupcode:code>/allow-list/", views.group_allow_list, name="group_allow_list"),
    path("<serial:serial>/", views.detail, name="detail"),
    path("<serial:serial>/approve/", views.approve, name="approve"),
    path("<serial:serial>/disable/", views.disable, name="disable"),
    path("<serial:serial>/update/", views.update, name="update"),
    path("<serial:serial>/command/", views.command, name="command"),
    path("<serial:serial>/photos/<int:pk>/", views.photo, name="photo"),
]
