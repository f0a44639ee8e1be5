from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ztk.core.errors import DomainError
from ztk.scheduling.services import calendar_import


class Command(BaseCommand):
    help = (
        "Import one year's official holiday arrangement from a CSV file with the header "
        "'date,kind,name' (date YYYY-MM-DD; kind holiday or workday, i.e. a make-up working "
        "day; name e.g. 国庆节) and an optional fourth column 'statutory' (yes/no: a festival "
        "day of the law, overtime 3×; left out or empty: the law's reading of the date), "
        "UTF-8 or GB18030. All or nothing: any bad row aborts the import and every bad row "
        "is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--dry-run", action="store_true", help="check and show the changes, write nothing"
        )

    def handle(self, *args, file, year, dry_run, **options):
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            result, _changes = calendar_import(
                actor=None, year=year, content=content, dry_run=dry_run, source_name=file.name
            )
        except DomainError as exc:
            for error in exc.details or []:
                column = f" [{error['column']}]" if error.get("column") else ""
                self.stderr.write(f"line {error['row']}{column}: {error['message']}")
            raise CommandError(exc.message) from None
        verb = "would change" if dry_run else "changed"
        self.stdout.write(
            f"{year}: {result.rows} rows; {verb}: {len(result.created)} added, "
            f"{len(result.updated)} updated, {len(result.deleted)} removed, "
            f"{len(result.replaced_manual)} hand-entered replaced; "
            f"{len(result.kept_manual)} other hand-entered kept"
        )
        if dry_run:
            self.stdout.write("dry run: nothing written")
