from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ztk.ops.backup import BackupError, create_backup, default_output


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup or pg_dump) and the uploaded files into "
        "one .tar.gz archive (or a directory) with a manifest of row counts and digests."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="the archive (or directory) to create; default "
            "var/backups/ztk-backup-<UTC time>.tar.gz",
        )
        parser.add_argument(
            "--directory",
            action="store_true",
            help="write an unpacked directory instead of an archive",
        )

    def handle(self, *args, output=None, directory=False, **options):
        output = output or default_output(directory=directory)
        try:
            manifest = create_backup(output, directory=directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        tables = manifest["tables"]
        files = sum(len(entries) for entries in manifest["files"].values())
        head = manifest["audit_head"]
        self.stdout.write(f"backup written: {output}")
        self.stdout.write(
            f"  {manifest['database']['vendor']} database: {len(tables)} tables, "
            f"{sum(tables.values())} rows; {files} files"
        )
        if head:
            self.stdout.write(f"  audit head: --expect-head {head['seq']}:{head['hash']}")
        self.stdout.write(f"  digest: {manifest['digest']}")
