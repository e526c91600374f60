"""Benchmark: registering tickets through POST /api/tickets over real HTTP.

Starts the real server (``hotline web``: uvicorn, one process, as shipped) on a free
127.0.0.1 port over a fresh database of its own, then registers ``--count`` tickets
from ``--concurrency`` concurrent HTTP clients (httpx, keep-alive) as a call-taker.
Prints tickets/second and latency percentiles. Target (issue 2): >= 300 tickets/s.

    .venv/bin/python bench/register_api.py --count 3000 --concurrency 16
    .venv/bin/python bench/register_api.py --database-url postgres://postgres@127.0.0.1:5432/hl_bench_register

The SQLite database lives in a temporary folder removed afterwards; a PostgreSQL
database (name must start with hl_bench) is dropped and created again.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402


def payloads(count: int, seed: int) -> list[dict[str, object]]:
    from hotline.cases import demo_data

    rng = random.Random(seed)
    out = []
    for _ in range(count):
        tpl = rng.choice(demo_data.TEMPLATES)
        code, district, roads, _streets = rng.choice(demo_data.DISTRICTS)
        road = rng.choice(roads)
        ctx = {"addr": f"{district}{road}{rng.randint(1, 399)}号", "road": road, "estate": rng.choice(demo_data.ESTATES),
               "district": district, "days": "昨天上午", "n": "2"}
        out.append({
            "citizen_name": rng.choice(demo_data.SURNAMES) + rng.choice(demo_data.GIVEN),
            "contact_phone": rng.choice(demo_data.PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}",
            "source": "phone", "service_type": tpl.service_type, "category": tpl.category, "district": code,
            "address": ctx["addr"], "summary": tpl.summary.format(**ctx), "content": tpl.content.format(**ctx),
        })
    return out


async def drive(base: str, token: str, bodies: list[dict[str, object]], concurrency: int, time_limit: float) -> tuple[list[float], int, float]:
    import httpx

    latencies: list[float] = []
    errors = 0
    queue = list(reversed(bodies))
    stop_at = time.monotonic() + time_limit
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while queue and time.monotonic() < stop_at:
            body = queue.pop()
            t0 = time.perf_counter()
            r = await client.post("/api/tickets", json=body)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 201:
                errors += 1
                if errors <= 3:
                    print(f"  error {r.status_code}: {r.text[:200]}", file=sys.stderr)

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="tickets to register (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent HTTP clients (default 16)")
    parser.add_argument("--warmup", type=int, default=100, help="registrations before measuring (default 100)")
    parser.add_argument("--time-limit", type=float, default=120, help="stop measuring after this many seconds (default 120)")
    parser.add_argument("--database-url", help="PostgreSQL URL of a bench database (hl_bench*); default: a fresh SQLite file")
    parser.add_argument("--prefill", type=int, default=0, help="generated tickets already in the database (default 0)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.count <= 1_000_000 or not 1 <= args.concurrency <= 256 or args.warmup < 0:
        parser.error("count 1..1000000, concurrency 1..256, warmup >= 0")

    data_dir = Path(tempfile.mkdtemp(prefix="hl-bench-register-"))
    try:
        if args.database_url:
            C.ensure_postgres_database(args.database_url, fresh=True)
        env = C.environment(data_dir, args.database_url)
        print(f"machine: {C.machine()}")
        print(f"database: {C.describe_database(args.database_url, data_dir)} (fresh, {args.prefill} tickets before)")
        # The demo city's departments, districts and accounts (+ optional existing tickets).
        C.hotline(env, "gen-tickets", str(args.prefill), "--no-progress")
        token = C.token_for(env, "calltaker")
        C.setup_django(data_dir, args.database_url)  # only for the vocabulary of the payloads
        bodies = payloads(args.warmup + args.count, args.seed)
        with C.web_server(env) as base:
            print(f"server: hotline web (uvicorn, 1 process) at {base}; {args.concurrency} concurrent clients")
            if args.warmup:
                asyncio.run(drive(base, token, bodies[: args.warmup], min(args.concurrency, args.warmup), args.time_limit))
            lat, errors, elapsed = asyncio.run(drive(base, token, bodies[args.warmup:], args.concurrency, args.time_limit))
        done = len(lat)
        rate = (done - errors) / elapsed if elapsed else 0.0
        ms = [x * 1000 for x in lat]
        print(C.table(
            ["registered", "errors", "seconds", "tickets/s", "p50 ms", "p95 ms", "p99 ms", "target", "ratio"],
            [[done - errors, errors, elapsed, rate, C.percentile(ms, 50), C.percentile(ms, 95), C.percentile(ms, 99),
              ">= 300/s", f"{rate / 300:.2f}"]],
        ))
        if done < args.count:
            print(f"stopped by --time-limit after {done} of {args.count}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
