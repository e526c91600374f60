"""Shared pieces of the knowledge benchmarks (knowledge_search.py, duplicate_check.py,
dispatch_suggest.py): a database of their own, percentiles, the machine line.

``--db sqlite`` uses a file under ``--data-dir``; ``--db postgres`` the database
``hl_knowledge_bench`` on 127.0.0.1:5432 (created when missing; ``--fresh`` drops
and recreates it). Generated data is kept between runs: a second run measures
without loading again.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
PG_URL = "postgres://postgres@127.0.0.1:5432/hl_knowledge_bench"


def arguments(description: str, **defaults: Any) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--data-dir", default=None, help="data folder (default /tmp/hl-knowledge-bench-<db>)")
    p.add_argument("--fresh", action="store_true", help="start from an empty database")
    p.add_argument("--queries", type=int, default=defaults.get("queries", 300), help="measured calls (bounded)")
    p.add_argument("--max-seconds", type=float, default=defaults.get("max_seconds", 120.0), help="stop measuring after this long")
    return p


def setup(args: argparse.Namespace) -> str:
    data_dir = Path(args.data_dir or f"/tmp/hl-knowledge-bench-{args.db}")
    if args.fresh:
        (data_dir / "models" / "dispatch.joblib").unlink(missing_ok=True)
    if args.fresh and args.db == "sqlite":
        for name in ("hotline.sqlite3", "hotline.sqlite3-wal", "hotline.sqlite3-shm"):
            (data_dir / name).unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["HOTLINE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hotline.settings"
    os.environ.setdefault("HOTLINE_LOG_LEVEL", "WARNING")
    if args.db == "postgres":
        _ensure_pg(args.fresh)
        os.environ["DATABASE_URL"] = PG_URL
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return f"{args.db} ({PG_URL if args.db == 'postgres' else data_dir / 'hotline.sqlite3'})"


def _ensure_pg(fresh: bool) -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'hl_knowledge_bench'").fetchone()
        if exists and fresh:
            conn.execute('DROP DATABASE "hl_knowledge_bench" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute('CREATE DATABASE "hl_knowledge_bench"')


#: CPU milliseconds of this process per measured call (filled by ``measure``): on a
#: machine shared with other jobs, wall time mostly measures waiting for a core.
CPU_MS: list[float] = []


def measure(calls: Sequence[Any], fn: Callable[[Any], Any], *, max_seconds: float, warmup: int = 5) -> list[float]:
    """Wall milliseconds per call of ``fn`` over ``calls`` (bounded by count and
    time); the same calls' CPU milliseconds (this process only) go to ``CPU_MS``."""
    for c in calls[:warmup]:
        fn(c)
    out: list[float] = []
    CPU_MS.clear()
    deadline = time.monotonic() + max_seconds
    for c in calls:
        t0, c0 = time.perf_counter(), time.process_time()
        fn(c)
        out.append((time.perf_counter() - t0) * 1000)
        CPU_MS.append((time.process_time() - c0) * 1000)
        if time.monotonic() > deadline:
            break
    return out


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(label: str, ms: Sequence[float]) -> str:
    cpu = CPU_MS[: len(ms)]
    return (f"{label}: n={len(ms)} wall p50={pct(ms, 50):.1f} ms p95={pct(ms, 95):.1f} ms p99={pct(ms, 99):.1f} ms "
            f"max={max(ms):.1f} ms mean={statistics.fmean(ms):.1f} ms; this process's CPU p50={pct(cpu, 50):.1f} ms "
            f"p95={pct(cpu, 95):.1f} ms")


def machine() -> str:
    load = os.getloadavg()
    return (f"{platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load[0]:.1f} at start (other engineers' jobs share the machine)")


def progress(label: str) -> Callable[[int, int], None]:
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-6)
        print(f"\r{label}: {done:,}/{total:,} ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
        if done >= total:
            print(file=sys.stderr)

    return show
