"""Benchmark: what a calendar or deadline-rule change costs (``directory.actions``).

Fills a database of its own with ``--tickets`` open tickets (``hotline gen-tickets
--open-share 1``), then times, ``--runs`` times, the administrator's change done the
way ``directory.actions`` does it inline (``recompute_open_deadlines`` over every open
ticket, one ``deadline_changed`` event per moved ticket):

- **rule**: the (any, any) and every service-type rule get one more working day and
  then the original again (two recomputations: every open ticket moves each time);
- **holiday**: one override (a working Wednesday made a day off) set and deleted;
- **move**: a district with all its streets and communities moved to another parent
  and back (one UPDATE of the subtree's paths).

The figures decide ``recompute_inline_max`` (default 500): the inline path holds the
database's write lock for the whole recomputation.

    .venv/bin/python bench/directory_recompute.py --tickets 2000
    .venv/bin/python bench/directory_recompute.py --tickets 20000
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
    parser.add_argument("--tickets", type=int, default=2000, help="open tickets in the database (generated if fewer; default 2000)")
    parser.add_argument("--runs", type=int, default=2, help="repetitions (default 2)")
    parser.add_argument("--database-url", help="PostgreSQL URL of a bench database (hl_bench*), created when missing")
    parser.add_argument("--sqlite-path", type=Path, default=Path("/tmp/hl-bench-directory"), help="SQLite data folder")
    parser.add_argument("--seed", type=int, default=4343)
    args = parser.parse_args()
    if not 1 <= args.tickets <= 1_000_000 or not 1 <= args.runs <= 10:
        parser.error("tickets 1..1000000, runs 1..10")

    env, data_dir = C.bench_database(args.database_url, args.sqlite_path, Path("/tmp/hl-bench-directory-pg"))
    C.setup_django(data_dir, args.database_url)

    from django.db import transaction
    from django.db.models import F

    from hotline.cases.deadlines import RUNNING_STATES, recompute_open_deadlines
    from hotline.cases.models import Status, Ticket
    from hotline.directory.models import DeadlineRule, Department, DepartmentKind, HolidayOverride

    open_q = {"status__in": list(RUNNING_STATES | {Status.REPLIED}), "deadline_start__isnull": False}
    have = Ticket.objects.filter(**open_q).count()
    if have < args.tickets:
        print(f"generating {args.tickets - have} open tickets (hotline gen-tickets --open-share 1) ...", flush=True)
        C.hotline(env, "gen-tickets", str(args.tickets - have), "--open-share", "1", "--seed", str(args.seed + have),
                  "--no-progress", timeout=3600)
        have = Ticket.objects.filter(**open_q).count()
    print(f"database: {C.describe_database(args.database_url, data_dir)}: {Ticket.objects.count()} tickets, {have} open")

    def timed(fn) -> tuple[float, int]:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        with transaction.atomic():
            n = fn()
        return time.perf_counter() - t0, n

    def bump_rules(delta: int) -> int:
        DeadlineRule.objects.filter(category__isnull=True).update(handle_days=F("handle_days") + delta)
        return recompute_open_deadlines("bench: rule change", dt.datetime.now(dt.timezone.utc))

    today = dt.date.today()
    wednesday = today + dt.timedelta(days=(2 - today.weekday()) % 7 + 7)

    def set_holiday() -> int:
        HolidayOverride.objects.update_or_create(date=wednesday, defaults={"is_workday": False, "name": "bench"})
        return recompute_open_deadlines("bench: holiday set", dt.datetime.now(dt.timezone.utc))

    def delete_holiday() -> int:
        HolidayOverride.objects.filter(date=wednesday).delete()
        return recompute_open_deadlines("bench: holiday deleted", dt.datetime.now(dt.timezone.utc))

    district = Department.objects.filter(kind=DepartmentKind.DISTRICT, active=True).order_by("path").first()
    other = Department.objects.filter(kind=DepartmentKind.BUREAU).exclude(path__startswith=district.path if district else "-").first()

    def move(to: object) -> int:
        from hotline.directory.actions import _move

        assert district is not None
        district.refresh_from_db()
        return _move(district, to)  # type: ignore[arg-type]

    rows = []
    for run in range(1, args.runs + 1):
        up, moved_up = timed(lambda: bump_rules(1))
        down, moved_down = timed(lambda: bump_rules(-1))
        hol, moved_hol = timed(set_holiday)
        unhol, moved_unhol = timed(delete_holiday)
        if district is not None and other is not None:
            original_parent = district.parent
            mv, subtree = timed(lambda: move(other))
            back, _ = timed(lambda: move(original_parent))
        else:
            mv = back = float("nan")
            subtree = 0
        per_k = (up + down) / 2 / max(have, 1) * 1000
        rows.append([run, have, up, moved_up, down, moved_down, hol, moved_hol, unhol, moved_unhol,
                     f"{per_k:.2f}", subtree, f"{mv * 1000:.1f}", f"{back * 1000:.1f}"])
    print(C.table(["run", "open", "rule +1 s", "moved", "rule -1 s", "moved", "holiday set s", "moved", "holiday del s", "moved",
                   "s per 1000 open", "subtree rows", "move ms", "back ms"],
                  [[f"{c:.2f}" if isinstance(c, float) else c for c in r] for r in rows]))


if __name__ == "__main__":
    main()
