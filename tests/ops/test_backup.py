"""`ztk backup` and `ztk restore` as an operator runs them (issue 10, item 16): a round
trip between two installations on the database the suite runs on, checked with counts and
digests taken by the test itself, and the refusals that keep a restore from doing harm."""

from __future__ import annotations

import os
import tarfile

import pytest

DIGEST_LEN = 64


@pytest.fixture(scope="module")
def source(installation):
    """The demo company plus uploaded files (nested, non-ASCII names, binary content)."""
    media = installation.var_dir / "media"
    (media / "corrections" / "2026").mkdir(parents=True, exist_ok=True)
    (media / "corrections" / "2026" / "证明 1.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    )
    (media / "punch-photos").mkdir(exist_ok=True)
    (media / "punch-photos" / "a.jpg").write_bytes(os.urandom(50_000))
    # Terminal punch photos live apart from MEDIA_ROOT (ZTK_DEVICE_PHOTO_DIR, by default
    # var/device-photos): a backup without them would lose every photo a punch links to.
    photos = installation.var_dir / "device-photos" / "2026" / "12"
    photos.mkdir(parents=True, exist_ok=True)
    (photos / "0f1e2d.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(20_000))
    return installation


@pytest.fixture
def target(tmp_path, worker_id):
    from .install import Installation

    base = os.environ.get("ZTK_TEST_DB_NAME", "test_ztk")
    install = Installation(tmp_path / "target", f"{base}_restore_{worker_id}").create_empty()
    yield install
    install.destroy()


def test_a_backup_restored_elsewhere_has_the_same_rows_audit_chain_and_files(
    source, target, tmp_path
):
    counts, head, files = source.table_counts(), source.audit_head(), source.file_digests()
    assert counts["audit_auditevent"] > 10 and counts["punches_punch"] > 1000 and len(files) == 3
    assert "device-photos/2026/12/0f1e2d.jpg" in files
    archive = tmp_path / "nightly.tar.gz"

    made = source.ztk("backup", "--output", str(archive))
    assert f"--expect-head {head}" in made.stdout
    digest = made.stdout.split("digest: ")[1].split()[0]
    assert len(digest) == DIGEST_LEN

    restored = target.ztk("restore", str(archive))
    assert digest in restored.stdout
    after = target.table_counts()
    # One more audit event: the restore itself, appended to the restored chain.
    assert after == counts | {"audit_auditevent": counts["audit_auditevent"] + 1}
    last = target.sql("SELECT action FROM audit_auditevent ORDER BY seq DESC LIMIT 1")[0][0]
    assert last == "ops.restore"
    check = target.ztk("verify-audit", "--expect-head", head)
    assert f"exported head {head} is in the chain" in check.stdout
    assert target.file_digests() == files

    # A second restore over it: refused without --force, and nothing changes.
    again = target.ztk("restore", str(archive), check=False)
    assert again.returncode == 1
    assert "not empty" in again.stderr and "--force" in again.stderr
    assert target.table_counts() == after

    forced = target.ztk("restore", str(archive), "--force")
    assert "now in" in forced.stdout  # the files that were there, moved aside
    assert target.table_counts() == after  # the backup again, plus this restore's event
    assert target.file_digests() == files


def test_a_damaged_or_foreign_backup_is_refused_before_anything_changes(source, target, tmp_path):
    made = tmp_path / "made"
    source.ztk("backup", "--directory", "--output", str(made))
    photo = made / "files" / "media" / "punch-photos" / "a.jpg"
    photo.write_bytes(photo.read_bytes()[:-1] + b"\x00")  # one byte changed
    before = target.table_counts()

    refused = target.ztk("restore", str(made), check=False)
    assert refused.returncode == 1
    assert "damaged: files/media/punch-photos/a.jpg does not match its SHA-256" in refused.stderr
    assert target.table_counts() == before

    junk = tmp_path / "junk.tar.gz"
    with tarfile.open(junk, "w:gz") as archive:
        archive.add(photo, arcname="photo.jpg")
    refused = target.ztk("restore", str(junk), check=False)
    assert refused.returncode == 1 and "not a ZTK backup" in refused.stderr


def test_a_missing_postgresql_client_is_named(source):
    if not source.postgres:
        pytest.skip("pg_dump is only needed for PostgreSQL")
    failed = source.ztk("backup", check=False, PATH="/nonexistent")
    assert failed.returncode == 1
    assert "pg_dump was not found on PATH" in failed.stderr
