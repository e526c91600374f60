"""Benchmark: dispatch suggestions (target p95 < 20 ms) and their accuracy.

    .venv/bin/python bench/dispatch_suggest.py --db sqlite   [--tickets 50000 --queries 500]
    .venv/bin/python bench/dispatch_suggest.py --db postgres

Generates a ticket history with the project's bulk generator (``cases.generate``,
``hotline gen-tickets``: the demo city's appeals, districts and lead departments),
trains the model exactly as ``hotline train-dispatch`` does (held-out split first,
then a refit on everything, written atomically), prints the held-out top-1/top-3
lead-department accuracy beside the majority baseline, then times
``knowledge.dispatch.suggest`` (segmentation, the two classifiers, the routing-rule
lookup) on new appeals.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time

from knowledge_common import arguments, machine, measure, progress, setup, summary


def main() -> None:
    p = arguments(__doc__.splitlines()[0], queries=500)
    p.add_argument("--tickets", type=int, default=50_000)
    args = p.parse_args()
    where = setup(args)
    from django.utils import timezone

    from hotline.cases import generate
    from hotline.cases.demo_data import ESTATES, TEMPLATES
    from hotline.cases.models import Ticket
    from hotline.directory.models import District
    from hotline.knowledge import dispatch

    now = timezone.now()
    have = Ticket.objects.count()
    if have < args.tickets:
        started = time.monotonic()
        generate.generate(args.tickets - have, now=now, seed=2026, progress=progress("tickets"))
        print(f"generated {args.tickets - have:,} tickets in {time.monotonic() - started:.0f} s", file=sys.stderr)
    started = time.monotonic()
    model = dispatch.train(now=now, holdout=0.2, progress=lambda m: print(m, file=sys.stderr))
    train_s = time.monotonic() - started
    assert model is not None
    dispatch.models.invalidate()

    rng = random.Random(17)
    districts = list(District.objects.values_list("pk", flat=True)) or [None]
    roads = ["东华路", "长安街", "南湖大道", "北山路", "科技大道"]
    appeals = []
    for _ in range(args.queries):
        tpl = rng.choice(TEMPLATES)
        ctx = {"addr": f"{rng.choice(roads)}{rng.randint(1, 300)}号", "road": rng.choice(roads), "estate": rng.choice(ESTATES),
               "district": "", "days": "昨天", "n": "3"}
        appeals.append((tpl.summary.format(**ctx), tpl.content.format(**ctx), rng.choice(districts)))

    def run(a: tuple[str, str, int | None]) -> None:
        dispatch.suggest(a[0], a[1], district_id=a[2])

    ms = measure(appeals, run, max_seconds=args.max_seconds)
    m = model.metrics
    print(f"# dispatch suggestions — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d} (UTC) — {machine()}")
    print(f"database: {where}; history: {Ticket.objects.count():,} tickets, {model.examples:,} labelled "
          f"(statuses {', '.join(dispatch.TRAINING_STATUSES)}); training {train_s:.0f} s incl. the held-out probe")
    print(f"held-out lead department ({m['held_out']['count']:,} tickets): top-1 {m['held_out']['top1']:.1%}, "
          f"top-3 {m['held_out']['top3']:.1%}; majority baseline top-1 {m['majority_baseline']['top1']:.1%}, "
          f"top-3 {m['majority_baseline']['top3']:.1%}; category top-1 {m['held_out']['category_top1']:.1%}")
    print(summary("dispatch.suggest (3 departments + 3 categories + rule lookup)", ms))


if __name__ == "__main__":
    main()
