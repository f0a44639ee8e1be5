"""A restore never writes outside its installation, whatever the archive or its manifest
holds: traversal names, absolute paths, links, a manifest naming files elsewhere."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from ztk.ops.backup import BackupError, manifest_digest, restore_backup


@pytest.fixture
def var(tmp_path, settings):
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    return tmp_path


def _archive(path, members: list[tuple[tarfile.TarInfo, bytes | None]]):
    with tarfile.open(path, "w:gz") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind=tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


@pytest.mark.parametrize(
    "members",
    [
        [_file("../escaped.txt")],
        [_file("/tmp/ztk-absolute-escape.txt")],
        [_link("files/media/link", "/etc/passwd")],
        [_link("files/media/hard", "/etc/passwd", tarfile.LNKTYPE)],
    ],
    ids=["dot-dot", "absolute", "symlink", "hardlink"],
)
def test_an_archive_entry_pointing_outside_is_refused_and_nothing_is_written(var, members):
    archive = _archive(var / "evil.tar.gz", members)
    with pytest.raises(BackupError):
        restore_backup(archive)
    assert not (var / "escaped.txt").exists()
    assert not (var / "var" / "media").exists()
    assert [p.name for p in (var / "var").iterdir()] == []  # the unpacked copy is gone


def test_a_manifest_naming_a_file_outside_the_backup_is_refused(var):
    data = b"secret"
    manifest = {
        "format": 1,
        "created_at": "2026-12-05T00:00:00+00:00",
        "database": {"vendor": "sqlite", "file": "database.sqlite3", "bytes": 1, "sha256": "0"},
        "tables": {},
        "audit_head": None,
        "migrations": [],
        "files": {
            "media": [{"path": "../../x", "bytes": 6, "sha256": hashlib.sha256(data).hexdigest()}]
        },
    }
    manifest["digest"] = manifest_digest(manifest)
    archive = _archive(
        var / "manifest.tar.gz",
        [_file("manifest.json", json.dumps(manifest).encode()), _file("database.sqlite3")],
    )
    with pytest.raises(BackupError, match="outside the backup"):
        restore_backup(archive)


def test_garbage_is_not_a_backup(var):
    junk = var / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(BackupError, match="not a readable backup archive"):
        restore_backup(junk)
