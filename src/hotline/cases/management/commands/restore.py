"""``hotline restore FILE``: put a backup back (hotline.lib.backup), then migrate."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.lib import backup


class Command(BaseCommand):
    help = "Restore a backup made by `hotline backup` (恢复). Replaces the database and media files."
    requires_system_checks = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="archive written by `hotline backup`")
        parser.add_argument("--yes", action="store_true", help="replace a database that already holds data")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            manifest = backup.read_manifest(opts["file"])
            backup.check_restorable(manifest)
            self.stdout.write(f"备份时间 / made at {manifest['created_at']} ({manifest['engine']}, hotline {manifest.get('hotline_version')})")
            if backup.database_has_data() and not opts["yes"]:
                raise CommandError(
                    "数据库中已有数据，恢复将覆盖它们 / the database already holds data and restoring replaces it: "
                    "stop `hotline serve`, make a backup of the current state if needed, then run again with --yes"
                )
            manifest = backup.restore_backup(opts["file"], progress=self.stdout.write)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS(
            f"恢复完成 / restored: database and {manifest['restored_media_files']} media files; schema migrated to this version"
        ))
