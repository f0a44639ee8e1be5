"""Role names (Django groups) and the permissions each one carries."""

from django.utils.translation import gettext_lazy as _

HR = "hr"
SYSADMIN = "sysadmin"
AUDITOR = "auditor"

GROUP_LABELS = {HR: _("HR admin"), SYSADMIN: _("System admin"), AUDITOR: _("Auditor")}
# Supervisor and department head are not groups: they follow from the organisation data.
