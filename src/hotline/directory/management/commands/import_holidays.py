"""``hotline import-holidays FILE``: load a year's holiday schedule (节假日安排) from a
file in the import format of docs/directory.md — the same action as
``POST /api/directory/holidays/import``: all or nothing, audited, open deadlines
recomputed. Run by the machine's operator (audited as ``system``) or ``--as`` an
administrator account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.accounts.models import User
from hotline.directory import actions
from hotline.lib import clock
from hotline.lib.errors import HotlineError, InvalidInput


class Command(BaseCommand):
    help = "导入节假日安排 / import a year's holiday schedule (lines date,is_workday,name; see docs/directory.md)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="UTF-8 text file, one `date,is_workday,name` per line ('-' for stdin)")
        parser.add_argument("--year", type=int, help="every date must fall in this year")
        parser.add_argument("--replace", action="store_true", help="remove the year's overrides the file does not mention")
        parser.add_argument("--as", dest="username", help="an administrator account to record as the actor")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        try:
            text = self.stdin_text() if str(path) == "-" else path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        actor = None
        if opts["username"]:
            actor = User.objects.filter(username=opts["username"]).first()
            if actor is None:
                raise CommandError(f"no user {opts['username']!r}")
        try:
            summary = actions.do_import_holidays(actor, text=text, year=opts["year"], replace=opts["replace"], now=clock.now())
        except InvalidInput as exc:
            for e in exc.errors:
                self.stderr.write(f"  {e['field']}: {e['rule']}: {e['message']}")
            raise CommandError(f"{len(exc.errors)} error(s): nothing was imported") from exc
        except HotlineError as exc:
            raise CommandError(str(exc)) from exc
        recompute = summary["recompute"]
        self.stdout.write(
            f"years {', '.join(map(str, summary['years']))}: {summary['created']} created, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['deleted']} deleted; deadlines: {recompute['mode']}"
            + (f", {recompute['changed']} moved" if recompute.get("changed") is not None else "")
        )

    def stdin_text(self) -> str:
        import sys

        return sys.stdin.read()
