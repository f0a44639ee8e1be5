from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "ztk.attendance"
    label = "attendance"
    verbose_name = _("Attendance")

    def ready(self) -> None:
        # registry: services uses models, which can be imported only once apps are loaded
        from ztk.punches import hooks as punch_hooks
        from ztk.scheduling import hooks

        from .services import (
            defer_recompute,
            recompute,
            recompute_punched,
            recompute_schedule_changes,
        )

        hooks.connect(recompute_schedule_changes)
        # New punches: the store tells the day's owner (punches must not import attendance).
        punch_hooks.register(
            punch_hooks.DayKeeper(
                recompute=recompute, recompute_punched=recompute_punched, defer=defer_recompute
            )
        )
