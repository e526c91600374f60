"""``hotline reindex-knowledge``: re-segment articles and tickets with the current
dictionary and synonyms (after adding words in bulk, or upgrading the packaged
dictionary). Dictionary changes made through the API queue the same work for the
worker automatically (``knowledge.tasks.reindex_knowledge``); this runs it now.

Thin: ``knowledge.reindex.reindex`` does the work.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.knowledge import reindex
from hotline.knowledge.actions import check_word
from hotline.lib import clock
from hotline.lib.errors import InvalidInput


class Command(BaseCommand):
    help = "Re-segment knowledge articles and the ticket index with the current dictionary (知识库重建索引)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--words", nargs="+", default=None,
                            help="only text containing one of these words (default: everything)")
        parser.add_argument("--no-tickets", action="store_true", help="articles only, not the ticket index")
        parser.add_argument("--tickets-since-days", type=int, default=None,
                            help="only tickets created in the last N days (default: every indexed ticket)")

    def handle(self, *args: Any, **opts: Any) -> None:
        words = None
        if opts["words"]:
            try:
                words = [check_word(w) for w in opts["words"]]
            except InvalidInput as exc:
                raise CommandError(f"--words: {exc}") from None
        days = opts["tickets_since_days"]
        if days is not None and days < 1:
            raise CommandError("--tickets-since-days must be at least 1")
        since = clock.now() - dt.timedelta(days=days) if days else None

        def show(state: reindex.Progress) -> None:
            self.stdout.write(f"articles {state.articles_changed}/{state.articles_seen}, "
                              f"tickets {state.tickets_changed}/{state.tickets_seen} re-indexed/checked")

        state = reindex.reindex(words, tickets=not opts["no_tickets"], tickets_since=since,
                                progress=show if opts["verbosity"] > 1 else None)
        self.stdout.write(self.style.SUCCESS(
            f"重建索引完成 / re-indexed: articles {state.articles_changed} of {state.articles_seen} checked, "
            f"tickets {state.tickets_changed} of {state.tickets_seen} checked"))
