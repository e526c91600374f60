"""Benchmark: the filtered ticket list, GET /api/tickets, over real HTTP.

Uses a database of its own filled by ``hotline gen-tickets`` (generated when it holds
fewer than ``--tickets``), starts the real server (``hotline web``, uvicorn, one
process) on a free 127.0.0.1 port and times realistic combined filters — status,
colour, district, category, department subtree, time range, free text, sort, the
first and a deep page — as a center role (dispatcher 派单员) and as a department
user (东华街道 handler), one request at a time. Prints p50/p95 per query and overall,
and the web server's own CPU time per request (user + system of the uvicorn process,
from /proc: the figure that other load on the machine barely changes; the database
server's CPU is not in it on PostgreSQL).
Target (issue 2): p95 < 100 ms on 1,000,000 tickets (PostgreSQL) and 200,000 (SQLite).

    .venv/bin/python bench/list_tickets.py --tickets 200000 --sqlite-path /tmp/hl-bench-list/hotline.sqlite3
    .venv/bin/python bench/list_tickets.py --tickets 1000000 --database-url postgres://postgres@127.0.0.1:5432/hl_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

CENTER_USER = "dispatcher"
DEPARTMENT_USER = "street_handler"


def queries(now: dt.datetime) -> list[tuple[str, dict[str, Any]]]:
    month_ago = (now - dt.timedelta(days=30)).isoformat()
    quarter_ago = (now - dt.timedelta(days=90)).isoformat()
    return [
        ("newest, page 1", {}),
        ("open at a department, by deadline", {"status": "dispatched,signed,handling", "sort": "deadline"}),
        ("red (overdue)", {"colour": "red", "sort": "deadline"}),
        ("yellow, one district", {"colour": "yellow", "district": "dongcheng"}),
        ("category subtree + last 30 days", {"category": "water", "created_from": month_ago}),
        ("lead dept subtree + status", {"lead_department": "dongcheng", "status": "handling,signed"}),
        ("closed, district, 90 days, by closing", {"status": "closed", "district": "nanhu", "created_from": quarter_ago, "sort": "-closed_at"}),
        ("free text 停水", {"q": "停水"}),
        ("free text + status + district", {"q": "噪音", "status": "closed", "district": "xicheng"}),
        ("free text, two words", {"q": "物业 电梯"}),
        ("urgent, by number", {"urgency": "urgent", "sort": "-number"}),
        ("deep page 200 (x20)", {"status": "closed", "page": 200}),
        ("deep page 50 (x100), 90 days", {"created_from": quarter_ago, "page": 50, "page_size": 100}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_page_bench_arguments(parser, sqlite_default=Path("/tmp/hl-bench-list"), repeat_what="query and user")
    parser.add_argument("--analyze", choices=["keep", "run", "drop"], default="keep",
                        help="planner statistics first: keep as they are (default), run ANALYZE, or drop SQLite's (sqlite_stat1)")
    args = parser.parse_args()

    import httpx

    env, data_dir, count = C.prepare_page_bench(parser, args, pg_data_dir=Path("/tmp/hl-bench-list-pg"))
    if args.analyze != "keep":
        sql = "ANALYZE" if args.analyze == "run" else "DROP TABLE IF EXISTS sqlite_stat1"
        t0 = time.monotonic()
        C.django_snippet(env, f"from django.db import connection\nconnection.cursor().execute({sql!r})\n")
        print(f"planner statistics: {sql} ({time.monotonic() - t0:.1f} s)")
    tokens = {u: C.token_for(env, u) for u in (CENTER_USER, DEPARTMENT_USER)}
    now = dt.datetime.now(dt.timezone.utc)
    stop_at = time.monotonic() + args.time_limit
    rows: list[list[Any]] = []
    per_user: dict[str, list[float]] = {u: [] for u in tokens}
    with C.web_server(env) as base, httpx.Client(base_url=base, timeout=120) as client:
        print(f"server: hotline web (uvicorn, 1 process) at {base}; one request at a time")
        for name, params in queries(now):
            for user, token in tokens.items():
                headers = {"Authorization": f"Bearer {token}"}
                times: list[float] = []
                result: dict[str, Any] = {}
                cpu0 = 0.0
                for i in range(args.warmup + args.repeat):
                    if i == args.warmup:
                        cpu0 = C.tree_cpu_seconds(C.SERVER_PIDS[base])
                    if time.monotonic() > stop_at:
                        break
                    t0 = time.perf_counter()
                    r = client.get("/api/tickets", params=params, headers=headers)
                    elapsed = (time.perf_counter() - t0) * 1000
                    if r.status_code != 200:
                        raise SystemExit(f"{name} as {user}: HTTP {r.status_code} {r.text[:300]}")
                    if i >= args.warmup:
                        times.append(elapsed)
                    result = r.json()
                cpu_ms = (C.tree_cpu_seconds(C.SERVER_PIDS[base]) - cpu0) * 1000 / max(len(times), 1)
                per_user[user].extend(times)
                shown = f"{result.get('count', 0)}{'+' if result.get('count_capped') else ''}"
                rows.append([name, user, shown, len(result.get("items", [])), C.percentile(times, 50), C.percentile(times, 95), max(times or [0.0]), f"{cpu_ms:.1f}"])
    print(C.table(["query", "as", "count", "items", "p50 ms", "p95 ms", "max ms", "server CPU ms/req"], rows))
    overall = []
    for user, times in per_user.items():
        p95 = C.percentile(times, 95)
        overall.append([user, len(times), C.percentile(times, 50), p95, "< 100 ms", f"{p95 / 100:.2f}"])
    everything = [t for ts in per_user.values() for t in ts]
    p95 = C.percentile(everything, 95)
    overall.append(["all", len(everything), C.percentile(everything, 50), p95, "< 100 ms", f"{p95 / 100:.2f}"])
    print(C.table(["user", "requests", "p50 ms", "p95 ms", "target", "p95/target"], overall))
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
