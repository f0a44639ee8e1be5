from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OvertimeConfig(AppConfig):
    name = "ztk.overtime"
    label = "overtime"
    verbose_name = _("Overtime")

    def ready(self) -> None:
        # registry: services and selectors use models, importable only once apps are loaded
        from ztk.approvals.registry import register
        from ztk.attendance import overtime_inputs

        from .selectors import overtime_inputs as read_overtime_inputs
        from .services import OVERTIME

        register(OVERTIME)
        # The recompute counts approved overtime with the group's policy.
        overtime_inputs.register(read_overtime_inputs)
