"""``hotline check``: what this installation is configured to use, and whether it
works. Exit code 0 when everything needed works (warnings allowed), 1 on errors."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from hotline.cases.workdays import package_covers

SCHEDULE_HINT = (
    "load that year's official holiday schedule (国务院办公厅节假日安排, incl. 调休 working weekends) "
    "as holiday overrides (HolidayOverride) through the administration pages or the directory API, "
    "or upgrade chinesecalendar (pip install -U chinesecalendar) once a release covers the year"
)


def calendar_coverage(years: Iterable[int]) -> dict[int, tuple[bool, str]]:
    """year -> (covered, by what). Uses directory.calendar_import when present."""
    years = list(years)
    try:
        from hotline.directory.calendar_import import calendar_coverage as external  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        external = None
    if external is not None:
        try:
            raw = external(years)
            out: dict[int, tuple[bool, str]] = {}
            for year in years:
                value: Any = raw[year]
                if isinstance(value, bool):
                    out[year] = (value, "calendar_import")
                elif isinstance(value, Mapping):
                    out[year] = (bool(value["covered"]), str(value.get("source", "calendar_import")))
                else:
                    out[year] = (bool(value.covered), str(getattr(value, "source", "calendar_import")))
            return out
        except (KeyError, AttributeError, TypeError):
            pass  # an unexpected shape: compute it ourselves
    from hotline.directory.models import HolidayOverride

    out = {}
    for year in years:
        overrides = HolidayOverride.objects.filter(date__year=year).count()
        if overrides:
            out[year] = (True, f"{overrides} holiday overrides")
        elif package_covers(year):
            out[year] = (True, "chinesecalendar package")
        else:
            out[year] = (False, "")
    return out


class Report:
    def __init__(self, write: Any, style: Any) -> None:
        self.write, self.style = write, style
        self.errors = 0
        self.warnings = 0

    def ok(self, what: str, detail: str) -> None:
        self.write(f"  OK       {what}: {detail}")

    def warn(self, what: str, detail: str) -> None:
        self.warnings += 1
        self.write(self.style.WARNING(f"  WARNING  {what}: {detail}"))

    def error(self, what: str, detail: str) -> None:
        self.errors += 1
        self.write(self.style.ERROR(f"  ERROR    {what}: {detail}"))


def _writable(folder: Path) -> str | None:
    """None when we can create a file in ``folder`` (creating it if needed), else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".hotline-check-"):
            pass
    except OSError as exc:
        return str(exc)
    return None


class Command(BaseCommand):
    help = "Check the configuration: database, folders, secrets, channel layer, migrations, holiday calendar (检查配置)."
    requires_system_checks = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, action="append", help="calendar years to check (default: this year and next)")

    def handle(self, *args: Any, **opts: Any) -> None:
        r = Report(self.stdout.write, self.style)
        self.stdout.write("hotline check")
        db_ok = self.check_database(r)
        self.check_folders(r)
        self.check_secret(r)
        self.check_channel_layer(r)
        if db_ok:
            self.check_migrations(r)
            this_year = timezone.localdate().year
            self.check_calendar(r, opts["year"] or [this_year, this_year + 1])
        summary = f"{r.errors} error(s), {r.warnings} warning(s)"
        if r.errors:
            self.stdout.write(self.style.ERROR(f"FAILED: {summary}"))
            self.stdout.flush()
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"OK: {summary}"))

    def check_database(self, r: Report) -> bool:
        db = settings.DATABASES["default"]
        engine = db["ENGINE"].rsplit(".", 1)[-1]
        where = db["NAME"] if engine == "sqlite3" else f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
                extra = ""
                if engine == "sqlite3":
                    cursor.execute("PRAGMA journal_mode")
                    extra = f", journal_mode={cursor.fetchone()[0]}"
        except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding
            r.error("database", f"{engine} at {where} is not reachable: {exc}")
            return False
        source = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "default (embedded SQLite)"
        r.ok("database", f"{engine} at {where} ({source}{extra})")
        return True

    def check_folders(self, r: Report) -> None:
        for what, folder in (("data dir", Path(settings.DATA_DIR)), ("media root", Path(settings.MEDIA_ROOT))):
            problem = _writable(folder)
            if problem:
                r.error(what, f"{folder} is not writable: {problem}")
            else:
                r.ok(what, f"{folder} (writable)")

    def check_secret(self, r: Report) -> None:
        if os.environ.get("HOTLINE_SECRET_KEY"):
            r.ok("secret key", "from HOTLINE_SECRET_KEY")
        elif os.environ.get("HOTLINE_SECRET_KEY_FILE"):
            r.ok("secret key", f"from HOTLINE_SECRET_KEY_FILE ({os.environ['HOTLINE_SECRET_KEY_FILE']})")
        else:
            r.ok("secret key", f"generated, kept in {Path(settings.DATA_DIR) / 'secret_key'} (set HOTLINE_SECRET_KEY when several machines serve)")
        if settings.DEBUG:
            r.warn("debug", "HOTLINE_DEBUG is on: never in production")

    def check_channel_layer(self, r: Report) -> None:
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
        redis_url = getattr(settings, "REDIS_URL", None)
        if not redis_url:
            r.ok("channel layer", f"{backend} (in-memory: one web process only; set REDIS_URL for several)")
            return
        url = urlparse(redis_url)
        try:
            with socket.create_connection((url.hostname or "localhost", url.port or 6379), timeout=2):
                pass
        except OSError as exc:
            r.error("channel layer", f"Redis at {url.hostname}:{url.port or 6379} is not reachable: {exc}")
            return
        try:
            import channels_redis  # noqa: F401
        except ImportError:
            r.error("channel layer", "REDIS_URL is set but channels-redis is not installed (pip install channels-redis)")
            return
        r.ok("channel layer", f"{backend} at {url.hostname}:{url.port or 6379}")

    def check_migrations(self, r: Report) -> None:
        executor = MigrationExecutor(connections["default"])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
            r.warn("migrations", f"{len(plan)} pending ({names}{'…' if len(plan) > 5 else ''}): run `hotline migrate` (`hotline serve` does it at start)")
        else:
            r.ok("migrations", "database schema is up to date")

    def check_calendar(self, r: Report, years: list[int]) -> None:
        try:
            coverage = calendar_coverage(years)
        except Exception as exc:  # noqa: BLE001 - e.g. tables missing before the first migrate
            r.warn("holiday calendar", f"cannot be read: {exc}")
            return
        for year in years:
            covered, by = coverage[year]
            if covered:
                r.ok(f"holiday calendar {year}", f"covered by {by}")
            else:
                r.warn(
                    f"holiday calendar {year}",
                    f"no holiday schedule for {year}: deadlines in {year} count Monday–Friday only "
                    f"(statutory holidays and 调休 are ignored). To fix: {SCHEDULE_HINT}",
                )
