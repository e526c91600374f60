"""``hotline gen-tickets N``: fill the database with N realistic generated tickets
(hotline.cases.generate) for benchmarks and load tests."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.cases import generate
from hotline.cases.models import Status
from hotline.lib import clock


def _share(value: str) -> float | None:
    if value == "demo":
        return None
    try:
        share = float(value)
    except ValueError as exc:
        raise CommandError(f"--open-share: {value!r} is not a number between 0 and 1 (or 'demo')") from exc
    if not 0 <= share <= 1:
        raise CommandError(f"--open-share: {value} is not between 0 and 1")
    return share


class Command(BaseCommand):
    help = (
        "Add N generated tickets of the demo city 滨江市 (批量生成工单) in bulk, with timelines and deadlines "
        "on the real calendar; builds the city's departments and accounts first when they are missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="how many tickets to add")
        parser.add_argument("--open-share", default="0.08", help="share of tickets at a department with a running "
                            "deadline (0..1, default 0.08), or 'demo' for the demo's mix (about 0.24)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument("--days", type=int, default=365, help="finished tickets spread over this many past days (default 365)")
        parser.add_argument("--batch", type=int, default=5000, help="tickets per transaction (default 5000)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations first")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["count"] < 0:
            raise CommandError("count must be 0 or more")
        share = _share(opts["open_share"])
        if not opts["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        started = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if opts["no_progress"] or (done < total and now - last[0] < 0.5):
                return
            last[0] = now
            width = 30
            filled = int(width * done / total) if total else width
            rate = done / max(now - started, 1e-9)
            self.stdout.write(f"\r  工单 / tickets [{'#' * filled}{'.' * (width - filled)}] {100 * done // max(total, 1):3d}% "
                              f"{done}/{total}  {rate:,.0f}/s", ending="\n" if done >= total else "")
            self.stdout.flush()

        try:
            result = generate.generate(opts["count"], now=clock.now(), seed=opts["seed"], open_share=share,
                                       days=opts["days"], batch=opts["batch"], progress=progress)
        except generate.GeneratorError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        labels = dict(Status.choices)
        by_status = ", ".join(f"{labels[k]} {v}" for k, v in sorted(result["by_status"].items(), key=lambda kv: -kv[1]))
        self.stdout.write(f"工单状态 / tickets by state: {by_status}")
        self.stdout.write(f"时间线事件 / timeline events: {result['events']}, 市民 / citizens: {result['citizens']} "
                          f"({result['new_citizens']} new, {result['citizens'] - result['new_citizens']} already in the database)")
        self.stdout.write("耗时 / time spent: " + ", ".join(f"{k} {v}s" for k, v in result["seconds"].items()))
        rate = result["tickets"] / elapsed if elapsed else 0
        self.stdout.write(self.style.SUCCESS(f"完成 / done: {result['tickets']} tickets in {elapsed:.1f}s ({rate:,.0f}/s)"))
