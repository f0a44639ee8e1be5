import time
from argparse import ArgumentTypeError
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from ztk.attendance.services import recompute_range
from ztk.core.parse import FIRST_DAY, LAST_DAY, parse_day
from ztk.org.models import AttendanceGroup


def _day(value: str) -> date:
    day = parse_day(value)
    if day is None:
        raise ArgumentTypeError(f"{value!r} is not a date from {FIRST_DAY} to {LAST_DAY}")
    return day


class Command(BaseCommand):
    help = "Recompute attendance days for a date range (after a rule change)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, type=_day)
        parser.add_argument("--to", dest="end", required=True, type=_day)
        parser.add_argument("--group", help="attendance group code (default: every group)")
        parser.add_argument(
            "--workers",
            type=int,
            help="worker processes (default: one per CPU, up to 4, for large ranges; 1: none)",
        )

    def handle(self, *args, start, end, group=None, workers=None, **options):
        if end < start:
            raise CommandError("--to is before --from")
        group_id = None
        if group:
            found = AttendanceGroup.objects.filter(code=group).first()
            if found is None:
                raise CommandError(f"no attendance group {group!r}")
            group_id = found.pk
        began = time.perf_counter()
        written = recompute_range(start=start, end=end, group_id=group_id, workers=workers)
        seconds = time.perf_counter() - began
        self.stdout.write(f"recomputed {written} employee-days in {seconds:.2f} s")
