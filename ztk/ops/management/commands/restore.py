from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ztk.ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `ztk backup` (archive or directory) into this "
        "installation, then verify row counts, file digests and the audit chain. Stop the "
        "web server and the worker first. Refuses an installation that holds data unless "
        "--force."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path, help="the .tar.gz archive or directory")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace an installation that holds data (its files are moved aside)",
        )

    def handle(self, *args, backup, force=False, **options):
        try:
            report = restore_backup(backup, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = report.manifest
        self.stdout.write(f"restored {backup} (made {manifest['created_at']})")
        self.stdout.write(
            f"  verified: {report.tables} tables, {report.rows} rows, {report.files} files "
            "as in the manifest; audit chain intact"
            + (f" up to head {manifest['audit_head']['seq']}" if manifest["audit_head"] else "")
        )
        self.stdout.write(f"  digest: {manifest['digest']}")
        if report.pending_migrations:
            self.stdout.write(f"  applied {report.pending_migrations} newer migration(s)")
        for path in report.moved_aside:
            self.stdout.write(f"  the files that were here are now in {path}")
