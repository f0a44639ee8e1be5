from django.core.management.base import BaseCommand, CommandError

from ztk.core.errors import DomainError
from ztk.scheduling.calendar_data import package_version, package_years
from ztk.scheduling.services import calendar_seed


class Command(BaseCommand):
    help = (
        "Copy chinese-calendar's statutory holidays and make-up workdays (调休) into the work "
        "calendar. Imported years and hand-entered days are left alone; years without data "
        "are marked as falling back to Monday–Friday."
    )

    def add_arguments(self, parser):
        first, last = package_years()
        parser.add_argument("--from-year", type=int, default=first, help=f"default {first}")
        parser.add_argument(
            "--to-year", type=int, default=last, help=f"default {last} (last year with data)"
        )

    def handle(self, *args, from_year, to_year, **options):
        try:
            report, _changes = calendar_seed(actor=None, from_year=from_year, to_year=to_year)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for seed in report:
            if seed.skipped:
                line = f"{seed.year}: imported arrangement kept"
            else:
                line = (
                    f"{seed.year}: {seed.status}, {seed.created} added, {seed.updated} updated, "
                    f"{seed.deleted} removed, {seed.kept_manual} hand-entered kept"
                )
            self.stdout.write(line)
        self.stderr.write(f"chinesecalendar {package_version()}")
