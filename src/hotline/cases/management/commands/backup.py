"""``hotline backup [FILE]``: database + media into one .tar.gz (hotline.lib.backup)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.lib import backup


class Command(BaseCommand):
    help = "Back up the database and media files (备份). Safe while the server runs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="archive to write (default: $HOTLINE_DATA_DIR/backups/hotline-<time>.tar.gz)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            path = backup.create_backup(opts["file"], progress=self.stdout.write)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"备份完成 / backup written: {path}"))
