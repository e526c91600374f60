"""``hotline worker``: runs queued background tasks (django-tasks-db's Worker, in
the main thread) and, in a scheduler thread, enqueues each periodic task of
``hotline.cases.tasks.PERIODIC`` every N seconds (N from the named setting).

Several workers may run at once (on one machine or many): the scheduler skips a
periodic task while one of it is already queued or running, so jobs do not pile
up; the jobs themselves are safe to run concurrently (row locks, claimed flags).
``--once`` runs the periodic tasks synchronously and exits (tests, cron).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from hotline.cases.tasks import PERIODIC as CASES_PERIODIC
from hotline.knowledge.tasks import PERIODIC as KNOWLEDGE_PERIODIC

# Knowledge (issue 5): the periodic jobs of every app are scheduled together.
PERIODIC = [*CASES_PERIODIC, *KNOWLEDGE_PERIODIC]

logger = logging.getLogger("hotline.worker")

#: A RUNNING result older than this many periods is taken for a worker that died mid-task.
STALE_PERIODS = 10
#: Finished results of periodic tasks are deleted after this long.
KEEP_PERIODIC_RESULTS = dt.timedelta(days=7)


def period_of(attribute: str) -> float:
    return float(getattr(settings, attribute))


def already_pending(task: Any, period: float, now: dt.datetime) -> bool:
    """True when a run of ``task`` is queued, or running and not stale."""
    stale_before = now - dt.timedelta(seconds=max(period * STALE_PERIODS, 600))
    qs = DBTaskResult.objects.filter(task_path=task.module_path)
    return qs.filter(status="READY").exists() or qs.filter(status="RUNNING", started_at__gte=stale_before).exists()


def enqueue_if_idle(task: Any, period: float, now: dt.datetime | None = None) -> bool:
    """Enqueue one run of ``task`` unless one is already pending. Returns whether it did."""
    if already_pending(task, period, now or timezone.now()):
        return False
    task.enqueue()
    return True


def prune_periodic_results(now: dt.datetime) -> int:
    paths = [task.module_path for task, _ in PERIODIC]
    deleted, _ = DBTaskResult.objects.filter(
        task_path__in=paths, status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=now - KEEP_PERIODIC_RESULTS
    ).delete()
    return deleted


class Scheduler(threading.Thread):
    """Enqueues the periodic tasks on time. Daemon thread: it dies with the worker."""

    def __init__(self, periodic: Sequence[tuple[Any, str]], *, tick: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(name="hotline-scheduler", daemon=True)
        self.periodic = list(periodic)
        self.tick = tick
        self.clock = clock
        self.stopped = threading.Event()
        self.next_run: dict[str, float] = {}
        self.next_prune = 0.0

    def run_due(self) -> list[str]:
        """Enqueue every task whose time has come; returns the paths enqueued."""
        done: list[str] = []
        now_mono = self.clock()
        for task, attribute in self.periodic:
            period = period_of(attribute)
            path = task.module_path
            if now_mono < self.next_run.get(path, 0.0):
                continue
            self.next_run[path] = now_mono + period
            if enqueue_if_idle(task, period):
                done.append(path)
        if now_mono >= self.next_prune:
            self.next_prune = now_mono + 3600
            prune_periodic_results(timezone.now())
        return done

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                self.run_due()
            except Exception:  # keep scheduling; the database may be back next tick
                logger.exception("periodic scheduling failed")
            finally:
                connection.close()
            self.stopped.wait(self.tick)


class Command(BaseCommand):
    help = "Run background tasks and schedule periodic jobs (后台任务与定时作业)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every periodic task once, synchronously, and exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between queue polls when idle")
        parser.add_argument("--queue-name", default="default", help="queues to process, comma-separated, '*' for all")
        parser.add_argument("--no-scheduler", action="store_true", help="only run queued tasks; do not enqueue periodic ones")
        parser.add_argument("--worker-id", default="", help="unique worker id (default: random)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["once"]:
            for task, _ in PERIODIC:
                result = task.call()
                self.stdout.write(f"{task.name}: {result}")
            return
        if not opts["no_scheduler"]:
            Scheduler(PERIODIC).start()
            periods = ", ".join(f"{t.name} {period_of(a):g}s" for t, a in PERIODIC)
            self.stdout.write(f"定时作业 / periodic jobs: {periods}")
        worker = Worker(
            queue_names=opts["queue_name"].split(","),
            interval=opts["interval"],
            batch=False,
            backend_name="default",
            startup_delay=True,
            max_tasks=None,
            worker_id=opts["worker_id"] or get_random_string(32),
            excluded_queue_names=[],
        )
        self.stdout.write("后台任务已启动 / worker running (Ctrl-C 停止 / to stop)")
        self.stdout.flush()
        worker.configure_signals()
        worker.run()
