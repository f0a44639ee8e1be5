from django.core.management.base import BaseCommand, CommandError

from ztk.core.errors import DomainError
from ztk.devices.services import device_approve


class Command(BaseCommand):
    help = "Approve a terminal; the punches it sent while pending are counted now."

    def add_arguments(self, parser):
        parser.add_argument("serial")
        parser.add_argument("--group", help="attendance group code (its time zone applies)")
        parser.add_argument("--time-zone", help="per-terminal time zone, e.g. Asia/Shanghai")
        parser.add_argument("--name", help="a name for the terminal, e.g. 'Gate 1'")

    def handle(self, *args, serial, group=None, time_zone=None, name=None, **options):
        try:
            result = device_approve(
                actor=None,
                serial=serial,
                attendance_group=group,
                time_zone=time_zone,
                name=name,
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        released = result.released
        self.stdout.write(
            f"{result.device.serial} approved ({result.device.time_zone_name}); held punches: "
            f"recorded {released.recorded}, duplicate {released.duplicate}, "
            f"still held (unknown PIN) {released.still_held}, refused {len(released.refused)}"
        )
