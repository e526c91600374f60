"""``hotline serve``: the embedded default. Creates the data folder and the
database on first run (``migrate`` every time: it is idempotent), then supervises
the web and worker processes. ``hotline web`` (``--web-only``) runs uvicorn alone:
one process, or ``HOTLINE_WEB_WORKERS`` processes sharing the port through
``lib/shared_port`` (each with a listening socket of its own, so the kernel spreads
connections evenly; uvicorn's own ``--workers`` off Linux)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from hotline.lib import shared_port
from hotline.lib.supervisor import ChildSpec, Supervisor

DEFAULT_LISTEN = "127.0.0.1:8000"


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``:port`` (all interfaces)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"HOTLINE_HTTP_LISTEN: expected host:port, got {value!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _hotline(*args: str) -> list[str]:
    return [sys.executable, "-m", "hotline.cli", *args]


def pbx_available() -> bool:
    """The telephony engine is enabled (``HOTLINE_PBX_ENABLED``) and installed."""
    import importlib.util

    return bool(settings.HOTLINE_PBX_ENABLED) and importlib.util.find_spec("hotline.pbx.server") is not None


def child_specs(host: str, port: int, *, worker: bool = True, pbx: bool = True) -> list[ChildSpec]:
    """The processes ``hotline serve`` supervises. Add a process role here.
    The pbx is a child of its own: a SIP port already taken makes it exit and
    restart with backoff while the web keeps serving."""
    env = {"HOTLINE_DATA_DIR": str(settings.DATA_DIR), "DJANGO_SETTINGS_MODULE": "hotline.settings"}
    specs = [ChildSpec("web", _hotline("web", "--host", host, "--port", str(port)), env)]
    if worker:
        specs.append(ChildSpec("worker", _hotline("worker"), env))
    if pbx and pbx_available():
        # The pbx posts screen-pop events to this web process (telephony.cti).
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        specs.append(ChildSpec("pbx", _hotline("pbx"), {**env, "HOTLINE_CTI_URL": settings.HOTLINE_CTI_URL or f"{_url(local, port)}api/telephony/cti/events"}))
    return specs


class Command(BaseCommand):
    help = "Run the hotline: web + worker under one supervisor (启动全部服务)."
    requires_system_checks = ()

    def add_arguments(self, parser: CommandParser) -> None:
        host, port = parse_listen(os.environ.get("HOTLINE_HTTP_LISTEN") or DEFAULT_LISTEN)
        parser.add_argument("--host", default=host, help=f"listen address (default from HOTLINE_HTTP_LISTEN: {host})")
        parser.add_argument("--port", type=int, default=port, help=f"listen port (default {port})")
        parser.add_argument("--no-worker", action="store_true", help="do not start the background worker")
        parser.add_argument("--no-pbx", action="store_true", help="do not start the telephony engine (or HOTLINE_PBX_ENABLED=false)")
        parser.add_argument("--web-only", action="store_true", help="run uvicorn in this process, nothing else (hotline web)")
        parser.add_argument("--stop-timeout", type=float, default=10.0, help="seconds to wait for children on shutdown")
        # One of several web processes started by `hotline web` (lib/shared_port).
        parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)

    def log(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args: Any, **opts: Any) -> None:
        host, port = opts["host"], opts["port"]
        if opts["web_only"]:
            self.web(host, port, reuse_port=opts["reuse_port"], stop_timeout=opts["stop_timeout"])
            return
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"数据目录 / data dir: {settings.DATA_DIR}")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("数据库已是最新 / database schema is up to date")
        connections.close_all()  # the children open their own
        self.stdout.write(self.style.SUCCESS(f"热线平台已启动 / hotline running at {_url(host, port)}  (Ctrl-C 停止 / to stop)"))
        self.stdout.flush()
        supervisor = Supervisor(child_specs(host, port, worker=not opts["no_worker"], pbx=not opts["no_pbx"]), stop_timeout=opts["stop_timeout"], log=self.log)
        supervisor.run()

    def web(self, host: str, port: int, *, reuse_port: bool, stop_timeout: float) -> None:
        """``hotline web``: uvicorn in this process; or, for ``HOTLINE_WEB_WORKERS``
        above one on Linux, a supervisor over that many ``--reuse-port`` children,
        each listening on a socket of its own in the port's ``SO_REUSEPORT`` group."""
        import uvicorn

        log_level = os.environ.get("HOTLINE_LOG_LEVEL", "info").lower()
        workers = settings.HOTLINE_WEB_WORKERS
        if reuse_port:
            sock = shared_port.listener(host, port)
            config = uvicorn.Config("hotline.asgi:application", host=host, port=port, log_level=log_level, lifespan="off")
            uvicorn.Server(config).run(sockets=[sock])
            return
        if workers == 1 or not shared_port.available():
            uvicorn.run("hotline.asgi:application", host=host, port=port, log_level=log_level, lifespan="off", workers=workers)
            return
        try:
            shared_port.check_free(host, port)
        except OSError as exc:
            raise CommandError(f"{host}:{port}: {exc.strerror} (端口已被占用 / the port is taken)") from exc
        argv = _hotline("web", "--host", host, "--port", str(port), "--reuse-port")
        specs = [ChildSpec(f"web-{n}", argv) for n in range(1, workers + 1)]
        self.log(f"网页服务 / web server at {_url(host, port)}: {workers} 个进程 / processes (Ctrl-C 停止 / to stop)")
        Supervisor(specs, stop_timeout=stop_timeout, log=self.log).run()
