"""``hotline train-dispatch``: (re)train the dispatch suggestion model now.

Thin: ``knowledge.dispatch.train`` does the work (held-out figures beside the
majority baseline, then a refit on all history, written atomically); running web
processes load the new model file without a restart.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.knowledge import dispatch
from hotline.lib import clock


class Command(BaseCommand):
    help = "Train the dispatch suggestion model from handled tickets (智能分派模型训练)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None,
                            help=f"use the newest N labelled tickets (default {dispatch.MAX_TRAINING_TICKETS})")
        parser.add_argument("--holdout", type=float, default=0.2, help="share held out to measure accuracy (0 to skip)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["limit"] is not None and opts["limit"] < dispatch.MIN_TRAINING_TICKETS:
            raise CommandError(f"--limit must be at least {dispatch.MIN_TRAINING_TICKETS}")
        if not 0 <= opts["holdout"] < 0.9:
            raise CommandError("--holdout must be between 0 and 0.9")
        model = dispatch.train(now=clock.now(), limit=opts["limit"], holdout=opts["holdout"],
                               progress=lambda msg: self.stdout.write(msg))
        if model is None:
            raise CommandError("not enough handled tickets to train on yet; suggestions use routing rules only")
        self.stdout.write(self.style.SUCCESS(f"模型已更新 / model {model.version} saved to {dispatch.model_path()}"))
