"""Backup and restore of a whole installation: the database and the uploaded files.

A backup is one ``.tar.gz`` archive (or, with ``directory=True``, the same content
unpacked) holding:

- ``database.sqlite3`` — SQLite's online backup API: a consistent copy while the web
  server and the worker keep writing; or ``database.pgdump`` — ``pg_dump --format=custom``
  inside an exported snapshot, so the row counts below are read from the very same state;
- ``files/<root>/…`` — every uploaded file (``MEDIA_ROOT`` is root ``media``; the
  terminals' punch photos, ``ZTK_DEVICE_PHOTO_DIR``, are root ``device-photos`` wherever
  that directory is; any other file-system storage of a ``FileField`` under
  ``ZTK_VAR_DIR`` is ``var/<path>``), copied
  after the database, so a file a stored row names is never missing (a file uploaded
  meanwhile may be there without its row, which is harmless);
- ``manifest.json`` — the row count of every table, the audit chain's head, the applied
  migrations, the size and SHA-256 of every file, and a ``digest`` over all of it.

A restore checks all of that before it touches anything, refuses an installation that
holds data unless forced, replaces the database and the files, and then verifies the row
counts, the files' digests and the audit chain up to the backup's head.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.db import connection, connections, models, transaction
from django.db.migrations.loader import MigrationLoader

from ztk.audit.models import AuditEvent
from ztk.audit.selectors import audit_head_mismatch, audit_verify
from ztk.audit.services import record
from ztk.devices.conf import photo_dir

FORMAT = 1
MANIFEST = "manifest.json"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore refused or failed, with a message for the operator."""


@dataclass(frozen=True)
class RestoreReport:
    manifest: dict[str, Any]
    tables: int
    rows: int
    files: int
    moved_aside: list[Path]
    pending_migrations: int


# --- shared ---------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest without its digest, as canonical JSON: it covers every
    file's hash, so one value identifies the whole backup."""
    body = {k: v for k, v in manifest.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def file_roots() -> dict[str, Path]:
    """Where uploaded files live: MEDIA_ROOT, the terminals' private photo directory
    (ZTK_DEVICE_PHOTO_DIR: no FileField names it, the photo rows hold its file names), and
    any other file-system storage of a FileField (under ZTK_VAR_DIR, so a restore knows
    where it goes)."""
    media = Path(settings.MEDIA_ROOT).resolve()
    var = Path(settings.VAR_DIR).resolve()
    roots = {"media": media}
    photos = photo_dir().resolve()
    if not photos.is_relative_to(media):
        roots["device-photos"] = photos
    for model in apps.get_models():
        for field in model._meta.get_fields():
            storage = getattr(field, "storage", None)
            if not isinstance(field, models.FileField) or not isinstance(
                storage, FileSystemStorage
            ):
                continue
            location = Path(storage.location).resolve()
            if any(location.is_relative_to(root) for root in roots.values()):
                continue
            if not location.is_relative_to(var):
                raise BackupError(
                    f"{model._meta.label}.{field.name} keeps its files in {location}, outside "
                    f"ZTK_VAR_DIR ({var}); the backup would not know where to restore them."
                )
            roots[f"var/{location.relative_to(var).as_posix()}"] = location
    return roots


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on PATH; it is needed for a PostgreSQL database. Install "
            "the PostgreSQL client of the server's major version (Debian/Ubuntu: "
            "apt-get install postgresql-client)."
        )
    return found


def _pg_command() -> tuple[list[str], dict[str, str]]:
    """Connection arguments and environment for pg_dump / pg_restore, from the settings
    Django uses (the password in the environment, never on the command line)."""
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    if db.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = str(db["OPTIONS"]["sslmode"])
    return args, env


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tool = Path(argv[0]).name
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")


def _tables(cursor, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return sorted(row[0] for row in cursor.fetchall())


def _snapshot_facts(cursor, vendor: str) -> dict[str, Any]:
    """Row counts, audit head and applied migrations, read from one consistent state."""
    counts = {}
    for table in _tables(cursor, vendor):
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    head = None
    events = AuditEvent._meta.db_table
    if events in counts:
        cursor.execute(f'SELECT seq, hash FROM "{events}" ORDER BY seq DESC LIMIT 1')
        row = cursor.fetchone()
        head = {"seq": row[0], "hash": row[1]} if row else None
    migrations: list[list[str]] = []
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        migrations = [[app, name] for app, name in cursor.fetchall()]
    return {"tables": counts, "audit_head": head, "migrations": migrations}


# --- backup ---------------------------------------------------------------------------------


def default_output(*, directory: bool) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"ztk-backup-{stamp}" + ("" if directory else ".tar.gz")
    return Path(settings.VAR_DIR) / "backups" / name


def create_backup(output: Path, *, directory: bool = False) -> dict[str, Any]:
    """Write a backup to ``output`` (a new .tar.gz file, or a new directory); returns its
    manifest. Runs beside the web server and the worker."""
    output = output.resolve()
    if output.exists():
        raise BackupError(f"{output} already exists; choose a new name.")
    vendor = connection.vendor
    if vendor not in DUMPS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}.")
    roots = file_roots()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        dump = staging / DUMPS[vendor]
        facts = _dump_sqlite(dump) if vendor == "sqlite" else _dump_postgresql(dump)
        files: dict[str, list[dict[str, Any]]] = {}
        for key, root in roots.items():
            files[key] = _copy_files(root, staging / "files" / key)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {
                "vendor": vendor,
                "file": dump.name,
                "bytes": dump.stat().st_size,
                "sha256": sha256_file(dump),
            },
            **facts,
            "files": files,
        }
        manifest["digest"] = manifest_digest(manifest)
        (staging / MANIFEST).write_text(
            json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False)
        )
        if directory:
            staging.rename(output)
        else:
            partial = output.with_name(output.name + ".partial")
            with tarfile.open(partial, "w:gz") as archive:
                for path in sorted(staging.rglob("*")):
                    archive.add(path, arcname=path.relative_to(staging).as_posix(), recursive=False)
            partial.rename(output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with transaction.atomic():
        record(
            "ops.backup",
            object_type="installation",
            extra={
                "digest": manifest["digest"],
                "file": output.name,
                "database": vendor,
                "rows": sum(manifest["tables"].values()),
                "audit_head": manifest["audit_head"],
            },
        )
    return manifest


def _dump_sqlite(target: Path) -> dict[str, Any]:
    source = sqlite3.connect(connection.settings_dict["NAME"])
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # SQLite's online backup: a consistent copy, writers go on
        # A plain file in the archive (no -wal beside it), readable without writing to it.
        copy.execute("PRAGMA journal_mode=DELETE")
        return _snapshot_facts(copy.cursor(), "sqlite")
    finally:
        source.close()
        copy.close()


def _dump_postgresql(target: Path) -> dict[str, Any]:
    import psycopg

    pg_dump = _tool("pg_dump")
    args, env = _pg_command()
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "sslmode": db.get("OPTIONS", {}).get("sslmode"),
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}) as snap:
        snap.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        snap.read_only = True
        snapshot = snap.execute("SELECT pg_export_snapshot()").fetchone()[0]
        # pg_dump sees exactly what this transaction sees, counted below.
        _run(
            [pg_dump, *args, "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot}", f"--file={target}"],
            env,
        )  # fmt: skip
        facts = _snapshot_facts(snap.cursor(), "postgresql")
        snap.rollback()
    return facts


def _copy_files(root: Path, target: Path) -> list[dict[str, Any]]:
    listed = []
    if not root.is_dir():
        return listed
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        listed.append(
            {
                "path": relative,
                "bytes": destination.stat().st_size,
                "sha256": sha256_file(destination),
            }
        )
    return listed


# --- restore --------------------------------------------------------------------------------


@contextmanager
def _opened(source: Path) -> Iterator[Path]:
    """The backup as a directory: itself, or the archive unpacked next to ZTK_VAR_DIR."""
    if source.is_dir():
        yield source
        return
    if not source.is_file():
        raise BackupError(f"{source} does not exist.")
    var = Path(settings.VAR_DIR)
    var.mkdir(parents=True, exist_ok=True)
    unpacked = Path(tempfile.mkdtemp(prefix=".restore-", dir=var))
    try:
        try:
            with tarfile.open(source, "r:*") as archive:
                for member in archive.getmembers():
                    if not (member.isfile() or member.isdir()):
                        raise BackupError(f"{source}: unexpected entry {member.name!r}.")
                # The "data" filter refuses absolute paths, "..", links and devices.
                archive.extractall(unpacked, filter="data")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupError(f"{source} is not a readable backup archive: {exc}") from None
        yield unpacked
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)


def read_manifest(backup: Path) -> dict[str, Any]:
    """The manifest, after checking that it and every file it lists are intact."""
    path = backup / MANIFEST
    if not path.is_file():
        raise BackupError(f"{backup} holds no {MANIFEST}: not a ZTK backup.")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST}: unknown backup format (this version reads {FORMAT}).")
    if manifest.get("digest") != manifest_digest(manifest):
        raise BackupError(f"{MANIFEST} was altered: its digest does not match its content.")
    database = manifest["database"]
    if database.get("file") not in DUMPS.values():
        raise BackupError(f"{MANIFEST} names an unknown database file {database.get('file')!r}.")
    listed = {database["file"]: database["sha256"]}
    for key, entries in manifest["files"].items():
        for entry in entries:
            name = f"{key}/{entry['path']}"
            parts = name.split("/")
            if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
                raise BackupError(f"{MANIFEST} lists a file outside the backup: {name!r}.")
            listed[f"files/{name}"] = entry["sha256"]
    present = {p.relative_to(backup).as_posix() for p in backup.rglob("*") if p.is_file()} - {
        MANIFEST
    }
    if missing := sorted(set(listed) - present):
        raise BackupError(f"the backup is incomplete: {missing[0]} is missing.")
    if extra := sorted(present - set(listed)):
        raise BackupError(f"the backup holds a file its manifest does not list: {extra[0]}.")
    for name, expected in sorted(listed.items()):
        if sha256_file(backup / name) != expected:
            raise BackupError(f"the backup is damaged: {name} does not match its SHA-256.")
    return manifest


def installation_contents() -> str:
    """What this installation holds that a restore would overwrite, or ""."""
    held = []
    tables = set(connection.introspection.table_names())
    user = get_user_model()
    for model, label in ((user, "user accounts"), (AuditEvent, "audit events")):
        if model._meta.db_table in tables and (count := model.objects.count()):
            held.append(f"{count} {label}")
    for key, root in file_roots().items():
        if root.is_dir() and any(p.is_file() for p in root.rglob("*")):
            held.append(f"files in {root} ({key})")
    return ", ".join(held)


def restore_backup(source: Path, *, force: bool = False) -> RestoreReport:
    """Replace this installation's database and files with the backup's, then verify.

    Stop the web server and the worker first. Nothing is changed unless the backup is
    intact, of the same database kind, not newer than this code, and (without ``force``)
    the installation holds no data.
    """
    with _opened(source.resolve()) as backup:
        manifest = read_manifest(backup)
        vendor = manifest["database"]["vendor"]
        if vendor != connection.vendor:
            raise BackupError(
                f"this backup is of a {VENDOR_NAMES.get(vendor, vendor)} database and this "
                f"installation uses {VENDOR_NAMES.get(connection.vendor, connection.vendor)} "
                "(DATABASE_URL); restore it into an installation of the same kind."
            )
        known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
        unknown = [f"{a}.{n}" for a, n in manifest["migrations"] if (a, n) not in known]
        if unknown:
            raise BackupError(
                "the backup was made by a newer version of ZTK Attendance (migrations "
                f"unknown here: {', '.join(unknown[:5])}); upgrade this installation first."
            )
        pg_restore = _tool("pg_restore") if vendor == "postgresql" else ""
        held = installation_contents()
        if held and not force:
            raise BackupError(
                f"this installation is not empty ({held}); restore refuses to overwrite it. "
                "Use --force to replace it (the current files are moved aside, not deleted)."
            )
        roots = file_roots()
        missing_roots = sorted(set(manifest["files"]) - set(roots))
        if missing_roots:
            raise BackupError(
                f"the backup holds files of {missing_roots[0]}, which this installation "
                "does not store files in."
            )

        connections.close_all()
        dump = backup / manifest["database"]["file"]
        if vendor == "sqlite":
            _restore_sqlite(dump)
        else:
            args, env = _pg_command()
            _run(
                [pg_restore, *args, "--clean", "--if-exists", "--no-owner", "--no-privileges",
                 "--single-transaction", "--exit-on-error", str(dump)],
                env,
            )  # fmt: skip
        moved = _place_files(backup, manifest, roots)

    tables, rows = _verify_restored(manifest, roots)
    applied = {tuple(m) for m in manifest["migrations"]}
    pending = len(set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations) - applied)
    if pending:
        # An older backup: bring its schema to this code's, as `make run` would on start.
        call_command("migrate", interactive=False, verbosity=0)
    with transaction.atomic():
        record(
            "ops.restore",
            object_type="installation",
            extra={
                "digest": manifest["digest"],
                "backup_created_at": manifest["created_at"],
                "audit_head": manifest["audit_head"],
                "forced": bool(force),
            },
        )
    files = sum(len(v) for v in manifest["files"].values())
    return RestoreReport(manifest, tables, rows, files, moved, pending)


def _restore_sqlite(dump: Path) -> None:
    target = Path(connection.settings_dict["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    destination = sqlite3.connect(target, timeout=20)
    try:
        # One step: the destination is replaced in a single transaction, or not at all.
        source.backup(destination)
    except sqlite3.Error as exc:
        raise BackupError(f"writing {target} failed: {exc}") from None
    finally:
        source.close()
        destination.close()


def _place_files(backup: Path, manifest: dict[str, Any], roots: dict[str, Path]) -> list[Path]:
    """Each root gets exactly the backup's files; what was there is moved aside."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = []
    for key, root in roots.items():
        if root.is_dir() and any(root.iterdir()):
            aside = root.with_name(f"{root.name}.before-restore-{stamp}")
            root.rename(aside)
            moved.append(aside)
        root.mkdir(parents=True, exist_ok=True)
        for entry in manifest["files"].get(key, []):
            destination = root / entry["path"]
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(backup / "files" / key / entry["path"], destination)
    return moved


def _verify_restored(manifest: dict[str, Any], roots: dict[str, Path]) -> tuple[int, int]:
    """The restored installation against the manifest: every table's row count, every
    file's digest, the audit chain and its head. Returns (tables, rows)."""
    with connection.cursor() as cursor:
        found = _snapshot_facts(cursor, connection.vendor)["tables"]
    expected = manifest["tables"]
    if found != expected:
        differ = sorted(
            t for t in found.keys() | expected.keys() if found.get(t) != expected.get(t)
        )
        table = differ[0]
        raise BackupError(
            f"after the restore, table {table} has {found.get(table, 'no')} rows where the "
            f"backup has {expected.get(table, 'none')} ({len(differ)} table(s) differ)."
        )
    for key, entries in manifest["files"].items():
        for entry in entries:
            if sha256_file(roots[key] / entry["path"]) != entry["sha256"]:
                raise BackupError(
                    f"restored file {key}/{entry['path']} does not match its SHA-256."
                )
    result = audit_verify()
    if not result.ok:
        raise BackupError(
            f"the restored audit chain is broken at sequence {result.first_broken_seq}: "
            f"{result.reason}."
        )
    head = manifest["audit_head"]
    if head and (reason := audit_head_mismatch(head["seq"], head["hash"])):
        raise BackupError(f"the restored audit chain does not hold the backup's head: {reason}.")
    return len(found), sum(found.values())
