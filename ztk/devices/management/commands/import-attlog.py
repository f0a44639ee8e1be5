from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ztk.attendance.services import drain_pending
from ztk.core.errors import DomainError
from ztk.devices.imports import usb_attlog_import


class Command(BaseCommand):
    help = (
        "Import a terminal's USB export (<DeviceID>_attlog.dat) as that terminal's punches. "
        "Idempotent: punches already pushed or imported are counted as duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--device", required=True, help="the terminal's serial number")
        parser.add_argument("--dry-run", action="store_true", help="count only, write nothing")

    def handle(self, *args, file: Path, device: str, dry_run: bool, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            report = usb_attlog_import(
                data=data, serial=device, dry_run=dry_run, filename=file.name
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        for line_no, code, message in report.refused:
            self.stdout.write(f"line {line_no}: refused: {code}: {message}")
        self.stdout.write(f"{file.name}: {report.summary()}")
        if not dry_run:
            # Large files queue their days for the worker; a command's user wants them now.
            days = drain_pending()
            if days:
                self.stdout.write(f"recomputed {days} employee-days")
