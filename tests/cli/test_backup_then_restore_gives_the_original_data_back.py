"""`hotline backup` then a change then `hotline restore` gives the original database
and media files back (SQLite file database, the CLI as a subprocess); restore asks
for --yes over existing data and refuses a backup from a newer schema."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from hotline.lib import backup
from tests.cli._run import hotline, ok


def usernames(data_dir: Path) -> set[str]:
    with sqlite3.connect(data_dir / "hotline.sqlite3") as db:
        return {row[0] for row in db.execute("SELECT username FROM accounts_user")}


def media_files(data_dir: Path) -> dict[str, str]:
    root = data_dir / "media"
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_restore_puts_back_the_database_and_media_files(tmp_path: Path) -> None:
    var = tmp_path / "var"
    ok(hotline(var, "migrate", "-v0"))
    ok(hotline(var, "createuser", "--username", "before", "--role", "admin", "--password-stdin", input="Restore-Me-2026\n"))
    (var / "media" / "attachments").mkdir(parents=True)
    (var / "media" / "attachments" / "photo.txt").write_text("original")
    archive = tmp_path / "b.tar.gz"
    out = ok(hotline(var, "backup", str(archive))).stdout
    assert "backup written" in out

    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        assert {"manifest.json", "database/hotline.sqlite3", "media/attachments/photo.txt"} <= set(tar.getnames())
    assert manifest["engine"] == "sqlite" and manifest["version"] == 1 and "cases" in manifest["migrations"]

    ok(hotline(var, "createuser", "--username", "after", "--role", "auditor"))
    (var / "media" / "attachments" / "photo.txt").write_text("changed")
    (var / "media" / "new.txt").write_text("new")
    assert usernames(var) == {"before", "after"}

    refused = hotline(var, "restore", str(archive))
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert usernames(var) == {"before", "after"}

    ok(hotline(var, "restore", str(archive), "--yes"))
    assert usernames(var) == {"before"}
    assert media_files(var) == {"attachments/photo.txt": "original"}


def test_restore_refuses_a_backup_from_a_newer_schema(tmp_path: Path) -> None:
    manifest = {"format": "hotline-backup", "version": 1, "engine": backup.engine_name(), "created_at": "2030-01-01T00:00:00+00:00",
                "migrations": {"cases": ["0001_initial", "0099_from_the_future"]}, "database": "database/hotline.sqlite3"}
    archive = tmp_path / "future.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    read = backup.read_manifest(archive)
    with pytest.raises(backup.BackupError, match="newer hotline.*cases.0099_from_the_future"):
        backup.check_restorable(read)
