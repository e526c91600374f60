"""Shared pieces of the bench/ scripts: a database of their own, the real web server
on a free loopback port, tokens, percentiles and a small table.

Every script is bounded in count and in time and listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
#: base URL -> pid of the server process started by ``web_server`` (for CPU accounting).
SERVER_PIDS: dict[str, int] = {}
PYTHON = sys.executable


def environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["HOTLINE_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "hotline.settings"
    env.setdefault("HOTLINE_LOG_LEVEL", "WARNING")
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def setup_django(data_dir: Path, database_url: str | None) -> None:
    """Configure this process for the bench database (call before importing models)."""
    os.environ.update(environment(data_dir, database_url))
    if not database_url:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def ensure_postgres_database(url: str, *, fresh: bool) -> None:
    """Create the PostgreSQL database of ``url`` (dropping it first when ``fresh``).
    Only databases whose name starts with ``hl_bench`` are ever dropped."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.startswith("hl_bench"):
        raise SystemExit(f"bench databases must be named hl_bench*: {name!r}")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> str:
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{out.stderr[-3000:]}")
    return out.stdout


def hotline(env: dict[str, str], *args: str, timeout: float = 3600) -> str:
    return _run([PYTHON, "-m", "hotline.cli", *args], env, timeout)


def django_snippet(env: dict[str, str], code: str, timeout: float = 300) -> str:
    """Run a few lines with Django set up, in a child process; returns its stdout."""
    prelude = "import django; django.setup()\n"
    return _run([PYTHON, "-c", prelude + code], env, timeout).strip()


def token_for(env: dict[str, str], username: str) -> str:
    return django_snippet(env, (
        "from hotline.accounts.actions import do_issue_token\n"
        "from hotline.accounts.models import User\n"
        f"raw, _ = do_issue_token(User.objects.get(username={username!r}))\n"
        "print(raw)\n"
    ))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process ``root`` and its live descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


@contextlib.contextmanager
def web_server(env: dict[str, str], *, start_timeout: float = 60, workers: int = 1, command: list[str] | None = None) -> Iterator[str]:
    """``hotline web`` (uvicorn, ``workers`` processes) on a free 127.0.0.1 port, or
    ``command`` (``{port}`` replaced); stopped on exit."""
    port = free_port()
    log = tempfile.TemporaryFile()
    env = {**env, "HOTLINE_WEB_WORKERS": str(workers)}
    cmd = [PYTHON, "-m", "hotline.cli", "web", "--host", "127.0.0.1", "--port", str(port)]
    if command:
        cmd = [part.replace("{port}", str(port)) for part in command]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise SystemExit(f"the web server exited: {log.read().decode(errors='replace')[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                raise SystemExit("the web server did not start in time")
            time.sleep(0.2)
        SERVER_PIDS[base] = proc.pid
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[f"{c:.1f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def describe_database(database_url: str | None, data_dir: Path) -> str:
    if database_url:
        p = urlparse(database_url)
        return f"PostgreSQL {p.hostname}:{p.port or 5432}/{p.path.lstrip('/')}"
    return f"SQLite {data_dir / 'hotline.sqlite3'}"


def machine() -> str:
    """Cores, load, CPU model, and the interpreter with a speed reference: machines
    differ from session to session (one AMD EPYC ran the same code at 0.6 of another's
    rate), and so do Python builds (a self-built 3.11 without PGO/LTO took 26 µs for
    the reference loop where Debian's took 11 on the same machine). Compare figures
    across sessions only with the reference beside them."""
    import platform
    import sys
    import timeit

    load = os.getloadavg()
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    reference = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    return (f"{os.cpu_count()} cores ({model or platform.machine()}), load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
            f"at start; Python {platform.python_version()} {sys.base_prefix}, sum(range(1000)) {reference:.1f} µs")


def ensure_tickets(env: dict[str, str], wanted: int, seed: int) -> int:
    """At least ``wanted`` tickets in the database, generated by ``hotline gen-tickets``."""
    import time

    have = int(django_snippet(env, "from hotline.cases.models import Ticket\nprint(Ticket.objects.count())") or 0)
    if have < wanted:
        print(f"generating {wanted - have} tickets (hotline gen-tickets) ...", flush=True)
        t0 = time.monotonic()
        hotline(env, "gen-tickets", str(wanted - have), "--seed", str(seed + have), "--no-progress", timeout=7200)
        print(f"  done in {time.monotonic() - t0:.0f}s", flush=True)
        have = wanted
    return have


def add_page_bench_arguments(parser: Any, *, sqlite_default: Path, repeat_what: str) -> None:
    """The options shared by the benchmarks that time pages or list requests."""
    parser.add_argument("--tickets", type=int, default=200_000, help="tickets in the database (generated if fewer; default 200000)")
    parser.add_argument("--repeat", type=int, default=20, help=f"timed requests per {repeat_what} (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help=f"untimed requests per {repeat_what} first (default 2)")
    parser.add_argument("--time-limit", type=float, default=600, help="stop measuring after this many seconds (default 600)")
    parser.add_argument("--database-url", help="PostgreSQL URL of a bench database (hl_bench*), created when missing")
    parser.add_argument("--sqlite-path", type=Path, default=sqlite_default, help=f"SQLite: the data folder to use/keep (default {sqlite_default})")
    parser.add_argument("--seed", type=int, default=2026)


def prepare_page_bench(parser: Any, args: Any, *, pg_data_dir: Path) -> tuple[dict[str, str], Path, int]:
    """Check the shared options, migrate, fill the database; returns (env, data dir, tickets)."""
    if not 1 <= args.tickets <= 5_000_000 or not 1 <= args.repeat <= 1000 or args.warmup < 0:
        parser.error("tickets 1..5000000, repeat 1..1000, warmup >= 0")
    env, data_dir = bench_database(args.database_url, args.sqlite_path, pg_data_dir)
    count = ensure_tickets(env, args.tickets, args.seed)
    print(f"database: {describe_database(args.database_url, data_dir)} with {count} tickets")
    return env, data_dir, count


def bench_database(database_url: str | None, sqlite_path: Path, pg_data_dir: Path) -> tuple[dict[str, str], Path]:
    """The benchmark's database (PostgreSQL when a URL is given, else SQLite in
    ``sqlite_path``), created and migrated; returns (environment, data folder)."""
    data_dir = sqlite_path if not database_url else pg_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if database_url:
        ensure_postgres_database(database_url, fresh=False)
    env = environment(data_dir, database_url)
    print(f"machine: {machine()}")
    hotline(env, "migrate")
    return env, data_dir
