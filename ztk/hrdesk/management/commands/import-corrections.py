"""`ztk import-corrections FILE [--dry-run]`: historical corrections from CSV or XLSX."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ztk.attendance.services import drain_pending
from ztk.core.errors import DomainError
from ztk.hrdesk import bulk_import


class Command(BaseCommand):
    help = (
        "Import historical corrections (批量处理历史数据) from a CSV (UTF-8 or GB18030) or "
        "XLSX file with the columns 工号 employee_no, 日期 date, 卡点 slot, [班段 segment], "
        "时间 time, 原因 reason, [外部编号 reference] (see docs/imports.md). Every row is "
        "checked first; all or nothing: any refused row imports nothing. Rows already "
        "imported are skipped. The import does not count against correction limits."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="check every row and report, write nothing"
        )

    def handle(self, *args, file, dry_run, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            preview = bulk_import.import_preview(actor=None, data=data, filename=file.name)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for row in preview.rows:
            if row.status != bulk_import.OK:
                self.stderr.write(f"line {row.line}: {row.status} [{row.code}] {row.message}")
        counts = preview.counts()
        summary = (
            f"{counts['rows']} rows: {counts['ok']} ok, {counts['duplicate']} already "
            f"imported, {counts['refused']} refused (sha256 {preview.sha256})"
        )
        if dry_run:
            self.stdout.write(summary)
            self.stdout.write("dry run: nothing written")
            return
        if preview.refused:
            self.stdout.write(summary)
            raise CommandError("rows are refused: nothing was imported")
        try:
            result = bulk_import.import_commit(actor=None, data=data, filename=file.name)
        except DomainError as exc:
            for detail in exc.details or []:
                if isinstance(detail, dict):
                    self.stderr.write(f"line {detail.get('line')}: {detail.get('message')}")
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"{result.rows} rows: {result.new} punches added, {result.duplicate} already "
            f"imported (sha256 {result.sha256})"
        )
        # Large files queue their days for the worker; a command's user wants them now.
        days = drain_pending()
        if days:
            self.stdout.write(f"recomputed {days} employee-days")
