"""Benchmark: the periodic deadline job (``cases.deadlines.run_deadline_job``).

Fills a database of its own with ``--tickets`` open tickets (``hotline gen-tickets
--open-share 1``: every ticket at a department with a running deadline, created over
the past weeks, so many have crossed a threshold), then times, ``--runs`` times:

- **catch-up**: the first run after the urge flags were cleared — it urges every
  ticket past a threshold (one UPDATE per batch, one event per ticket);
- **steady**: the next run, minutes later — what the worker does every period:
  finds nothing new to urge.

Before each catch-up the urge flags, counts and automatic urge events are reset.
Target (issue 2): the job over 1,000,000 open tickets in under 10 s.

    .venv/bin/python bench/deadline_job.py --tickets 1000000 --database-url postgres://postgres@127.0.0.1:5432/hl_bench_open
    .venv/bin/python bench/deadline_job.py --tickets 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200_000, help="open tickets in the database (generated if fewer; default 200000)")
    parser.add_argument("--runs", type=int, default=2, help="catch-up + steady pairs to time (default 2)")
    parser.add_argument("--database-url", help="PostgreSQL URL of a bench database (hl_bench*), created when missing")
    parser.add_argument("--sqlite-path", type=Path, default=Path("/tmp/hl-bench-deadline"), help="SQLite data folder (default /tmp/hl-bench-deadline)")
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()
    if not 1 <= args.tickets <= 5_000_000 or not 1 <= args.runs <= 10:
        parser.error("tickets 1..5000000, runs 1..10")

    env, data_dir = C.bench_database(args.database_url, args.sqlite_path, Path("/tmp/hl-bench-deadline-pg"))
    C.setup_django(data_dir, args.database_url)

    from django.db import connection
    from django.db.models import Q

    from hotline.cases.deadlines import RUNNING_STATES, run_deadline_job
    from hotline.cases.models import Ticket, TicketEvent

    open_q = Q(status__in=list(RUNNING_STATES))
    have = Ticket.objects.filter(open_q).count()
    if have < args.tickets:
        print(f"generating {args.tickets - have} open tickets (hotline gen-tickets --open-share 1) ...", flush=True)
        t0 = time.monotonic()
        C.hotline(env, "gen-tickets", str(args.tickets - have), "--open-share", "1", "--seed", str(args.seed + have),
                  "--no-progress", timeout=7200)
        print(f"  done in {time.monotonic() - t0:.0f}s", flush=True)
        have = Ticket.objects.filter(open_q).count()
    total = Ticket.objects.count()
    print(f"database: {C.describe_database(args.database_url, data_dir)}: {total} tickets, {have} open at a department")

    rows = []
    for run in range(1, args.runs + 1):
        t0 = time.perf_counter()
        Ticket.objects.filter(Q(urged_sign_at__isnull=False) | Q(urged_yellow_at__isnull=False) | Q(urged_red_at__isnull=False)).update(
            urged_sign_at=None, urged_yellow_at=None, urged_red_at=None, urge_count=0)
        TicketEvent.objects.filter(kind__startswith="auto_urge").delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE cases_ticket")
        reset = time.perf_counter() - t0
        now = dt.datetime.now(dt.timezone.utc)
        t0 = time.perf_counter()
        first = run_deadline_job(now)
        catch_up = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = run_deadline_job(now + dt.timedelta(minutes=5))
        steady = time.perf_counter() - t0
        urged = sum(first.values())
        rows.append([run, have, f"{reset:.1f}", urged, ", ".join(f"{k.removeprefix('auto_urge_')} {v}" for k, v in first.items()),
                     catch_up, f"{urged / catch_up:.0f}" if catch_up else "-", sum(second.values()), steady, "< 10 s",
                     f"{catch_up / 10:.2f}", f"{steady / 10:.3f}"])
        print(f"run {run}: catch-up {catch_up:.2f}s ({urged} urged), steady {steady:.2f}s", flush=True)
    print(C.table(["run", "open tickets", "reset s", "urged", "by threshold", "catch-up s", "urges/s", "urged", "steady s",
                   "target", "catch-up/target", "steady/target"], [[f"{c:.2f}" if isinstance(c, float) else c for c in r] for r in rows]))


if __name__ == "__main__":
    main()
