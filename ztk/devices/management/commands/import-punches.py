from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ztk.attendance.services import drain_pending
from ztk.core.errors import DomainError
from ztk.devices.imports import punches_import


class Command(BaseCommand):
    help = (
        "Import punches from a CSV or XLSX file with the columns employee_no, time "
        "[, device_sn, verify_mode, punch_state, remark] (header row first). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="count only, write nothing")
        parser.add_argument(
            "--tz",
            help="time zone of times without an offset (default: the employee's group zone)",
        )

    def handle(self, *args, file: Path, dry_run: bool, tz: str | None, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            report = punches_import(data=data, filename=file.name, dry_run=dry_run, tz=tz)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        for row, code, message in report.refused:
            self.stdout.write(f"row {row}: refused: {code}: {message}")
        self.stdout.write(f"{file.name}: {report.summary()}")
        if not dry_run:
            # Large files queue their days for the worker; a command's user wants them now.
            days = drain_pending()
            if days:
                self.stdout.write(f"recomputed {days} employee-days")
