"""Backup and restore of the whole installation: database + media root.

A backup is a ``.tar.gz`` holding::

    manifest.json              format, version, created_at, engine, applied migrations
    database/hotline.sqlite3   SQLite: a consistent copy made with the online backup API
    database/hotline.pgdump    PostgreSQL: ``pg_dump -Fc``
    media/...                  attachments and recordings

SQLite is copied with ``sqlite3.Connection.backup`` (consistent while the server is
writing, WAL included) and restored the same way, page by page into the live file,
so open connections see the restored data and no stale ``-wal`` file survives.
PostgreSQL uses ``pg_dump``/``pg_restore`` with the ``DATABASE_URL`` parameters.

Restoring refuses a backup whose schema is newer than this code (it lists
migrations this version does not know); an older backup is restored and then
migrated forward by the caller.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = "hotline-backup"
VERSION = 1
PG_HINT = "pg_dump/pg_restore not found: install the PostgreSQL client tools (apt-get install postgresql-client)"

Progress = Callable[[str], None]


class BackupError(Exception):
    """The backup cannot be made or restored; the message says why and what to do."""


def _quiet(_: str) -> None:
    pass


def engine_name() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "sqlite" in engine:
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")


def applied_migrations() -> dict[str, list[str]]:
    loader = MigrationLoader(connections["default"], ignore_no_migrations=True)
    out: dict[str, list[str]] = {}
    for app, name in sorted(loader.applied_migrations):
        out.setdefault(app, []).append(name)
    return out


def known_migrations() -> set[tuple[str, str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return set(loader.disk_migrations)


def unknown_migrations(manifest: dict[str, Any]) -> list[str]:
    """Migrations the backup's database had that this code does not know (newer schema)."""
    known = known_migrations()
    return sorted(f"{app}.{name}" for app, names in manifest.get("migrations", {}).items() for name in names if (app, name) not in known)


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("hotline")
    except Exception:  # noqa: BLE001  # pragma: no cover - not installed as a package
        return "unknown"


def default_backup_path(now: dt.datetime | None = None) -> Path:
    stamp = timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M%S")
    return Path(settings.DATA_DIR) / "backups" / f"hotline-{stamp}.tar.gz"


def _pg_params() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args: list[str] = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _run_pg(tool: str, args: list[str], env: dict[str, str]) -> None:
    if shutil.which(tool) is None:
        raise BackupError(PG_HINT)
    proc = subprocess.run([tool, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(f"{tool} failed ({proc.returncode}): {proc.stderr.strip()}")


def _dump_database(engine: str, workdir: Path) -> Path:
    if engine == "sqlite":
        source = Path(settings.DATABASES["default"]["NAME"])
        if not source.exists():
            raise BackupError(f"the database {source} does not exist (run `hotline migrate` first)")
        target = workdir / "hotline.sqlite3"
        src = sqlite3.connect(str(source), timeout=30)
        dst = sqlite3.connect(str(target))
        try:
            with dst:
                src.backup(dst, pages=1024)
        finally:
            dst.close()
            src.close()
        return target
    target = workdir / "hotline.pgdump"
    args, env = _pg_params()
    _run_pg("pg_dump", [*args, "-Fc", "--no-owner", "-f", str(target), str(settings.DATABASES["default"]["NAME"])], env)
    return target


def create_backup(dest: Path | str | None = None, *, now: dt.datetime | None = None, progress: Progress = _quiet) -> Path:
    """Write a backup archive and return its path."""
    now = now or timezone.now()
    engine = engine_name()
    dest_path = Path(dest) if dest else default_backup_path(now)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(settings.MEDIA_ROOT)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "hotline_version": _package_version(),
        "created_at": now.isoformat(),
        "engine": engine,
        "migrations": applied_migrations(),
    }
    with tempfile.TemporaryDirectory(prefix="hotline-backup-", dir=dest_path.parent) as tmp:
        progress(f"数据库 / database ({engine}) ...")
        db_file = _dump_database(engine, Path(tmp))
        manifest["database"] = f"database/{db_file.name}"
        media_files = [p for p in sorted(media_root.rglob("*")) if p.is_file()] if media_root.is_dir() else []
        manifest["media_files"] = len(media_files)
        partial = dest_path.with_name(dest_path.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            tar.add(db_file, arcname=manifest["database"])
            progress(f"附件 / media: {len(media_files)} files ...")
            for path in media_files:
                tar.add(path, arcname=f"media/{path.relative_to(media_root).as_posix()}")
        partial.chmod(0o600)
        partial.replace(dest_path)
    progress(f"完成 / done: {dest_path}")
    return dest_path


def read_manifest(path: Path | str) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = tar.extractfile("manifest.json")
            if member is None:
                raise KeyError("manifest.json")
            manifest: dict[str, Any] = json.loads(member.read().decode())
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise BackupError(f"{path} is not a hotline backup: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a hotline backup (format {manifest.get('format')!r})")
    if int(manifest.get("version", 0)) > VERSION:
        raise BackupError(f"{path} uses backup format {manifest['version']}; this hotline reads up to {VERSION}: upgrade first")
    return manifest


def database_has_data() -> bool:
    """Whether the current database holds users or tickets (restoring would replace them)."""
    try:
        with connections["default"].cursor() as cursor:
            for table in ("accounts_user", "cases_ticket"):
                cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # fixed table names
                if cursor.fetchone():
                    return True
    except Exception:  # noqa: BLE001 - no tables yet: an empty database
        return False
    return False


def check_restorable(manifest: dict[str, Any]) -> None:
    engine = engine_name()
    if manifest.get("engine") != engine:
        raise BackupError(
            f"the backup is of a {manifest.get('engine')} database and DATABASE_URL points to {engine}; "
            "restore into the same kind of database (convert with `hotline manage dumpdata`/`loaddata`)"
        )
    newer = unknown_migrations(manifest)
    if newer:
        raise BackupError(
            "the backup comes from a newer hotline (schema migrations unknown here: "
            + ", ".join(newer[:5]) + ("…" if len(newer) > 5 else "") + "); install that version or newer first"
        )


def _safe_extract(tar: tarfile.TarFile, target: Path) -> None:
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is not None:
        tar.extractall(target, filter=data_filter)
        return
    root = target.resolve()  # pragma: no cover - Python without extraction filters
    for member in tar.getmembers():
        if not (root / member.name).resolve().is_relative_to(root) or member.issym() or member.islnk():
            raise BackupError(f"unsafe path in backup: {member.name}")
    tar.extractall(target)


def _restore_sqlite(db_file: Path) -> None:
    target = Path(settings.DATABASES["default"]["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(db_file))
    dst = sqlite3.connect(str(target), timeout=30)
    try:
        src.backup(dst)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()
        src.close()


def _restore_postgresql(db_file: Path) -> None:
    args, env = _pg_params()
    name = str(settings.DATABASES["default"]["NAME"])
    _run_pg("pg_restore", [*args, "--clean", "--if-exists", "--no-owner", "-d", name, str(db_file)], env)


def _restore_media(source: Path) -> int:
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.exists():
        shutil.rmtree(media_root)
    media_root.mkdir(parents=True, exist_ok=True)
    count = 0
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source)
            if path.is_dir():
                (media_root / rel).mkdir(parents=True, exist_ok=True)
            elif path.is_file():
                (media_root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, media_root / rel)
                count += 1
    return count


def restore_backup(path: Path | str, *, progress: Progress = _quiet) -> dict[str, Any]:
    """Replace the database and media root with the backup's. The caller has
    confirmed (``--yes``) when the database had data; run ``migrate`` afterwards."""
    manifest = read_manifest(path)
    check_restorable(manifest)
    connections.close_all()
    with tempfile.TemporaryDirectory(prefix="hotline-restore-") as tmp:
        work = Path(tmp)
        progress("解包 / unpacking ...")
        with tarfile.open(path, "r:gz") as tar:
            _safe_extract(tar, work)
        db_file = work / manifest["database"]
        if not db_file.is_file():
            raise BackupError(f"the backup lacks its database file {manifest['database']}")
        progress(f"数据库 / database ({manifest['engine']}) ...")
        if manifest["engine"] == "sqlite":
            _restore_sqlite(db_file)
        else:
            _restore_postgresql(db_file)
        progress("附件 / media ...")
        manifest["restored_media_files"] = _restore_media(work / "media")
    connections.close_all()
    return manifest
