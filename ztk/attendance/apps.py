from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "ztk.attendance"
    label = "attendance"

    def ready(self) -> None:
        from ztk.scheduling import hooks

        from .services import recompute_schedule_changes

        hooks.connect(recompute_schedule_changes)
