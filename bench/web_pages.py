"""Benchmark: every workbench page rendered server-side, over real HTTP.

Uses a database of its own filled by ``hotline gen-tickets`` (generated when it holds
fewer than ``--tickets``), starts the real server (``hotline web``, uvicorn, one
process) on a free 127.0.0.1 port, logs in through the login page as each of the demo
city's roles (passwords from the generator's demo-users.txt) and times each page —
desk, caller panel, reminder panel, every role's My work and its lists, ticket pages,
search with filters, department workbench (a street office and a city bureau),
administration, the audit log viewer, the public portal — one request at a time.
Prints p50/p95/max and the server's CPU time per page, and overall. The rest of a
working hotline's data (supervisions, extension requests, 1,000,000 audit entries,
knowledge articles, call records) is added once by bench/_web_extras.py
(``--no-extras`` to skip).
Target (issue 4): every workbench page < 150 ms p95 with 200,000 tickets in SQLite.

    .venv/bin/python bench/web_pages.py --tickets 200000 --sqlite-path /tmp/hl-bench-web [--analyze]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
from _web_extras import ensure_extras  # noqa: E402

USERS = ("calltaker", "dispatcher", "street_handler")


def samples(env: dict[str, str]) -> dict[str, Any]:
    """Ids to visit: open tickets of 东华街道 and of the city, a phone with history, a query code."""
    code = r'''
import json
from django.db.models import Count
from hotline.accounts.models import User
from hotline.cases.models import Ticket, Status
h = User.objects.get(username="street_handler")
street = list(Ticket.objects.filter(lead_department__path__startswith=h.department.path, status__in=["signed", "handling"]).order_by("-id").values_list("id", flat=True)[:3])
center = list(Ticket.objects.filter(status__in=["replied", "closed", "registered"]).order_by("-id").values_list("id", flat=True)[:3])
phone = Ticket.objects.values("contact_phone").annotate(n=Count("id")).filter(n__gt=1).order_by("-n").values_list("contact_phone", flat=True).first()
t = Ticket.objects.filter(status="closed").order_by("-id").first()
print(json.dumps({"street": street, "center": center, "phone": phone or "", "code": t.query_code, "tail": t.contact_phone[-4:]}))
'''
    return json.loads(C.django_snippet(env, code))


def pages(s: dict[str, Any]) -> dict[str | None, list[tuple[str, str]]]:
    """Every workbench page, as each role that works in it: My work of every role, the
    ticket page, search, the department workbench, administration, the audit log viewer,
    the reminder panel the desk and My work poll, and the public portal."""
    center_ticket = [(f"ticket page #{i}", f"/tickets/{i}/") for i in s["center"]]
    street_ticket = [(f"ticket page #{i}", f"/tickets/{i}/") for i in s["street"]]
    return {
        "calltaker": [
            ("desk", "/desk/"),
            ("desk caller panel", f"/desk/caller/?contact_phone={s['phone']}"),
            ("reminder panel", "/reminders/?next=/desk/"),
            ("my work", "/work/"),
            ("search: text 停水", "/search/?q=停水"),
            ("search: handling by deadline", "/search/?status=handling&sort=deadline"),
            *center_ticket[:2],
        ],
        "teamleader": [
            ("desk", "/desk/"),
            ("my work", "/work/"),
        ],
        "dispatcher": [
            ("my work", "/work/"),
            ("my work: to review", "/work/?list=to_review"),
            ("my work: extensions", "/work/?list=extensions"),
            ("my work: returned", "/work/?list=returned"),
            ("my work: overdue", "/work/?list=urgeable"),
            ("search: red", "/search/?colour=red&sort=deadline"),
            ("search: page 50", "/search/?status=closed&page=50"),
            *center_ticket,
        ],
        "supervisor": [
            ("my work", "/work/"),
            ("my work: supervised", "/work/?list=supervised"),
            *center_ticket[:1],
        ],
        "inspector": [
            ("my work", "/work/"),
            ("search: closed, newest", "/search/?status=closed"),
        ],
        "statistician": [
            ("my work", "/work/"),
            ("search", "/search/"),
        ],
        "street_handler": [
            ("my work", "/work/"),
            ("my work: to handle", "/work/?list=to_handle"),
            ("department workbench", "/dept/"),
            ("department: handling", "/dept/?tab=handling"),
            ("search (department scope)", "/search/"),
            *street_ticket,
        ],
        "street_manager": [
            ("my work", "/work/"),
            ("department workbench", "/dept/"),
            ("department: replied", "/dept/?tab=replied"),
            *street_ticket[:1],
        ],
        "water_handler": [
            ("my work", "/work/"),
            ("my work: to handle", "/work/?list=to_handle"),
            ("my work: urged", "/work/?list=urged"),
            ("my work: assisting", "/work/?list=assisting"),
        ],
        "water_manager": [
            ("my work", "/work/"),
            ("department workbench", "/dept/"),
            ("department: handling", "/dept/?tab=handling"),
        ],
        "admin": [
            ("admin: departments", "/manage/departments/"),
            ("admin: users", "/manage/users/"),
            ("admin: parameters", "/manage/parameters/"),
            ("admin: holidays", "/manage/holidays/"),
            ("admin: categories", "/manage/dictionary/category/"),
            ("admin: deadline rules", "/manage/deadline-rules/"),
        ],
        "auditor": [
            ("audit log", "/audit/"),
            ("audit log: action ticket.", "/audit/?action=ticket."),
        ],
        None: [
            ("portal", "/portal/"),
            ("portal: knowledge search 居住证", "/portal/knowledge/?q=居住证"),
            ("portal: knowledge", "/portal/knowledge/"),
            ("portal: track", f"/portal/track/?code={s['code']}&phone_tail={s['tail']}"),
        ],
    }


def passwords(data_dir: Path) -> dict[str, str]:
    out = {}
    for line in (data_dir / "demo-users.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            user, password, *_ = line.split("\t")
            out[user] = password
    return out


def login(client: Any, username: str, password: str) -> None:
    client.get("/accounts/login/")
    token = client.cookies.get("csrftoken")
    r = client.post("/accounts/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": token})
    if r.status_code != 302:
        raise SystemExit(f"login as {username} failed: HTTP {r.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_page_bench_arguments(parser, sqlite_default=Path("/tmp/hl-bench-web"), repeat_what="page")
    parser.add_argument("--analyze", action="store_true",
                        help="run ANALYZE first (SQLite keeps no statistics by itself; PRAGMA optimize would) and say so")
    parser.add_argument("--no-extras", action="store_true",
                        help="do not add supervisions, extension requests, audit entries, articles and call records (bench/_web_extras.py)")
    parser.add_argument("--only", metavar="REGEX", help="time only the pages whose name or role matches (e.g. 'my work|dispatcher')")
    args = parser.parse_args()

    import httpx

    env, data_dir, count = C.prepare_page_bench(parser, args, pg_data_dir=Path("/tmp/hl-bench-web-pg"))
    # Every request comes from 127.0.0.1: the portal's per-address look-up limit (30 per
    # 10 minutes by default) would answer the repeated progress look-ups with its 422.
    env["HOTLINE_PORTAL_LOOKUPS_PER_10MIN"] = str(10 * (args.warmup + args.repeat) + 100)
    if not args.no_extras:
        print(ensure_extras(env))
    if args.analyze:
        t0 = time.monotonic()
        C.django_snippet(env, "from django.db import connection\nconnection.cursor().execute('ANALYZE')\nprint('ok')", timeout=1800)
        print(f"ANALYZE done in {time.monotonic() - t0:.0f}s (planner statistics present)")
    else:
        print("no ANALYZE run (SQLite: statistics only if someone ran ANALYZE / PRAGMA optimize on this file)")
    secrets = passwords(data_dir)
    plan = pages(samples(env))
    if args.only:
        wanted = re.compile(args.only)
        plan = {u: [(n, url) for n, url in urls if wanted.search(n) or wanted.search(u or "citizen")] for u, urls in plan.items()}
        plan = {u: urls for u, urls in plan.items() if urls}
    stop_at = time.monotonic() + args.time_limit
    rows: list[list[Any]] = []
    everything: list[float] = []
    with C.web_server(env) as base:
        pid = C.SERVER_PIDS[base]
        print(f"server: hotline web (uvicorn, 1 process) at {base}; one request at a time")
        for user, urls in plan.items():
            with httpx.Client(base_url=base, timeout=120, follow_redirects=False) as client:
                if user is not None:
                    login(client, user, secrets[user])
                for name, url in urls:
                    times: list[float] = []
                    size = 0
                    cpu0 = 0.0
                    for i in range(args.warmup + args.repeat):
                        if time.monotonic() > stop_at:
                            break
                        if i == args.warmup:
                            cpu0 = C.tree_cpu_seconds(pid)
                        t0 = time.perf_counter()
                        r = client.get(url)
                        elapsed = (time.perf_counter() - t0) * 1000
                        if r.status_code != 200:
                            raise SystemExit(f"{name} as {user}: HTTP {r.status_code} {r.text[:300]}")
                        size = len(r.content)
                        if i >= args.warmup:
                            times.append(elapsed)
                    cpu_ms = (C.tree_cpu_seconds(pid) - cpu0) * 1000 / len(times) if times else float("nan")
                    everything.extend(times)
                    rows.append([name, user or "citizen", f"{size // 1024} KiB", C.percentile(times, 50), C.percentile(times, 95), max(times or [0.0]),
                                 cpu_ms])
    print(C.table(["page", "as", "size", "p50 ms", "p95 ms", "max ms", "server CPU ms/request"], rows))
    print("server CPU ms/request: the server process's own CPU time (Linux /proc, 10 ms ticks) over the timed requests,"
          " divided by their number — the steadier figure on a shared machine")
    worst = max((r[4] for r in rows), default=float("nan"))
    p95 = C.percentile(everything, 95)
    print(C.table(["requests", "p50 ms", "p95 ms (all)", "worst page p95 ms", "target"],
                  [[len(everything), C.percentile(everything, 50), p95, worst, "< 150 ms p95 per page"]]))


if __name__ == "__main__":
    main()
