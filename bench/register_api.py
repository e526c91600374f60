"""Benchmark: registering tickets through POST /api/tickets over real HTTP.

Starts the real server (``hotline web``: uvicorn, ``--workers`` processes) on a free
127.0.0.1 port over a fresh database of its own, then registers tickets as a
call-taker from ``--concurrency`` keep-alive connections, with one of two load
generators:

- ``--client wrk`` (default when /usr/bin/wrk exists): wrk, in C, with a Lua script
  that posts ``--count`` distinct prepared JSON bodies in turn for ``--duration``
  seconds; it costs a few per cent of one core, so the server gets the machine;
- ``--client python``: httpx (asyncio) in ``--processes`` processes, ``--count``
  registrations in all.

``--ceiling`` first measures the chosen generator against a trivial ASGI app
(``bench/_trivial_asgi.py``) to show that the generator is not the bottleneck.
Prints tickets/second and latency percentiles. Target (issue 2): >= 300 tickets/s.

    .venv/bin/python bench/register_api.py --duration 20 --concurrency 16 --workers 2
    .venv/bin/python bench/register_api.py --client python --count 1500 --ceiling
    .venv/bin/python bench/register_api.py --database-url postgres://postgres@127.0.0.1:5432/hl_bench_register

The SQLite database lives in a temporary folder removed afterwards; a PostgreSQL
database (name must start with hl_bench) is dropped and created again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

PYTHON_BIN = sys.executable


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


WRK = "/usr/bin/wrk"

LUA = """
local bodies = {%(bodies)s}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%(path)s", headers, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("WRK_RESULT %%d %%d %%d %%d %%.0f %%.0f %%.0f %%.0f\\n", summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def run_wrk(base: str, token: str, bodies: list[dict[str, object]], concurrency: int, seconds: float, path: str = "/api/tickets") -> dict[str, float]:
    """wrk for ``seconds`` from ``concurrency`` connections (one wrk thread)."""
    lua_bodies = ",\n".join("[==[" + json.dumps(b, ensure_ascii=False) + "]==]" for b in bodies)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write(LUA % {"bodies": lua_bodies, "token": token, "path": path})
        script = f.name
    try:
        out = subprocess.run([WRK, "-t1", f"-c{concurrency}", f"-d{max(1, int(seconds))}s", "--timeout", "30s", "-s", script, base],
                             capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(script)
    m = re.search(r"WRK_RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out.stdout)
    if not m:
        raise SystemExit(f"wrk failed: {out.stdout[-1000:]} {out.stderr[-1000:]}")
    requests, micros, bad_status, socket_errors, p50, p95, p99, top = map(int, m.groups())
    elapsed = micros / 1e6
    return {"done": requests, "errors": bad_status + socket_errors, "seconds": elapsed, "p50": p50 / 1000, "p95": p95 / 1000,
            "p99": p99 / 1000, "max": top / 1000}


def _python_process(base: str, token: str, bodies: list[dict[str, object]], concurrency: int, time_limit: float, out: object) -> None:
    lat, errors, elapsed = asyncio.run(drive(base, token, bodies, concurrency, time_limit))
    out.put((lat, errors, elapsed))  # type: ignore[attr-defined]


def run_python(base: str, token: str, bodies: list[dict[str, object]], concurrency: int, processes: int, time_limit: float) -> dict[str, float]:
    """httpx clients in ``processes`` processes, ``concurrency`` connections in all."""
    if processes == 1:
        lat, errors, elapsed = asyncio.run(drive(base, token, bodies, concurrency, time_limit))
    else:
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        share = [bodies[i::processes] for i in range(processes)]
        procs = [multiprocessing.Process(target=_python_process, args=(base, token, share[i], max(1, concurrency // processes), time_limit, queue))
                 for i in range(processes)]
        for p in procs:
            p.start()
        results = [queue.get(timeout=time_limit + 120) for _ in procs]
        for p in procs:
            p.join()
        lat = [x for r in results for x in r[0]]
        errors = sum(r[1] for r in results)
        elapsed = max(r[2] for r in results)
    ms = [x * 1000 for x in lat]
    return {"done": len(lat), "errors": errors, "seconds": elapsed, "p50": C.percentile(ms, 50), "p95": C.percentile(ms, 95),
            "p99": C.percentile(ms, 99), "max": max(ms or [0.0])}


def connection_split(base: str) -> str:
    """How the kernel spread the load's established connections over the server's
    processes (e.g. "10/6"): fixed at connect time for keep-alive connections, and one
    process holding most of them is bound by its one core while the other idles."""
    port = base.rsplit(":", 1)[1]
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[pid] = counts.get(pid, 0) + 1
    return "/".join(str(n) for n in sorted(counts.values(), reverse=True)) or "?"


def load(args: argparse.Namespace, base: str, token: str, bodies: list[dict[str, object]], path: str = "/api/tickets") -> dict[str, float]:
    """Run the load; also measures the server's own CPU time (all its processes), which
    does not depend on what else runs on the machine: CPU ms per request, and the
    connections' split over the server's processes, read halfway through."""
    import threading

    pid = C.SERVER_PIDS.get(base)
    before = C.tree_cpu_seconds(pid) if pid else 0.0
    split: list[str] = []
    halfway = threading.Timer(min(args.duration, args.time_limit) / 2, lambda: split.append(connection_split(base)))
    halfway.start()
    try:
        if args.client == "wrk":
            result = run_wrk(base, token, bodies, args.concurrency, args.duration, path)
        else:
            result = run_python(base, token, bodies, args.concurrency, args.processes, args.time_limit)
    finally:
        halfway.cancel()
    used = C.tree_cpu_seconds(pid) - before if pid else float("nan")
    result["server_cpu_ms"] = used * 1000 / result["done"] if result["done"] else float("nan")
    result["split"] = split[0] if split else "?"  # type: ignore[assignment]
    return result


def row(label: str, r: dict[str, float]) -> list[object]:
    rate = (r["done"] - r["errors"]) / r["seconds"] if r["seconds"] else 0.0
    return [label, int(r["done"] - r["errors"]), int(r["errors"]), r["seconds"], rate, r["p50"], r["p95"], r["p99"],
            r.get("server_cpu_ms", float("nan")), r.get("split", "?"), f"{rate / 300:.2f}"]


HEADERS = ["run", "registered", "errors", "seconds", "per s", "p50 ms", "p95 ms", "p99 ms", "server CPU ms/req",
           "connections per process", "ratio to 300/s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if os.path.exists(WRK) else "python",
                        help="load generator (default wrk when installed)")
    parser.add_argument("--count", type=int, default=2000, help="distinct bodies; python client: registrations (default 2000)")
    parser.add_argument("--duration", type=float, default=20, help="wrk: seconds of load (default 20)")
    parser.add_argument("--processes", type=int, default=1, help="python client: generator processes (default 1)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (HOTLINE_WEB_WORKERS, default 1)")
    parser.add_argument("--threads", type=int, default=0, help="threads per web process (HOTLINE_WEB_THREADS; default: the setting's)")
    parser.add_argument("--warmup", type=int, default=100, help="registrations before measuring (default 100)")
    parser.add_argument("--time-limit", type=float, default=120, help="stop measuring after this many seconds (default 120)")
    parser.add_argument("--ceiling", action="store_true", help="first measure the generator against a trivial ASGI app")
    parser.add_argument("--database-url", help="PostgreSQL URL of a bench database (hl_bench*); default: a fresh SQLite file")
    parser.add_argument("--prefill", type=int, default=0, help="generated tickets already in the database (default 0)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.count <= 1_000_000 or not 1 <= args.concurrency <= 256 or args.warmup < 0 or not 1 <= args.processes <= 16:
        parser.error("count 1..1000000, concurrency 1..256, processes 1..16, warmup >= 0")
    if not 1 <= args.duration <= 600 or not 1 <= args.workers <= 8 or not 0 <= args.threads <= 64:
        parser.error("duration 1..600 s, workers 1..8, threads 0..64")
    args.duration = min(args.duration, args.time_limit)

    data_dir = Path(tempfile.mkdtemp(prefix="hl-bench-register-"))
    rows: list[list[object]] = []
    try:
        if args.database_url:
            C.ensure_postgres_database(args.database_url, fresh=True)
        env = C.environment(data_dir, args.database_url)
        if args.threads:
            env["HOTLINE_WEB_THREADS"] = str(args.threads)
        print(f"machine: {C.machine()}")
        print(f"database: {C.describe_database(args.database_url, data_dir)} (fresh, {args.prefill} tickets before)")
        C.hotline(env, "gen-tickets", str(args.prefill), "--no-progress")
        token = C.token_for(env, "calltaker")
        C.setup_django(data_dir, args.database_url)  # only for the vocabulary of the payloads
        bodies = payloads(args.warmup + args.count, args.seed)
        generator = f"{args.client}" + (f" x{args.processes} processes" if args.client == "python" and args.processes > 1 else "")
        if args.ceiling:
            trivial = [PYTHON_BIN, "-m", "uvicorn", "--app-dir", str(Path(__file__).resolve().parent), "_trivial_asgi:app",
                       "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning", "--workers", "2"]
            with C.web_server(env, command=trivial) as base:
                rows.append(row(f"ceiling: {generator} -> trivial ASGI app (2 uvicorn workers)", load(args, base, token, bodies[args.warmup:], "/")))
        with C.web_server(env, workers=args.workers) as base:
            threads = env.get("HOTLINE_WEB_THREADS", "default")
            print(f"server: hotline web (uvicorn, {args.workers} process(es), {threads} threads each) at {base}; {generator}, {args.concurrency} connections")
            if args.warmup:
                asyncio.run(drive(base, token, bodies[: args.warmup], min(args.concurrency, args.warmup), args.time_limit))
            rows.append(row(f"register: {generator}, {args.workers} worker(s)", load(args, base, token, bodies[args.warmup:])))
        print(C.table(HEADERS, rows))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
