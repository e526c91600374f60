"""Background jobs of the case system, run by ``hotline worker`` from the
database-backed queue (django-tasks + django-tasks-db)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks import task

from hotline.cases import deadlines


@task()
def deadline_job() -> dict[str, int]:
    """Periodic: urge at the sign-for, yellow and red thresholds (idempotent)."""
    return deadlines.run_deadline_job()


@task()
def recompute_deadlines(reason: str) -> int:
    """After a calendar, rule or threshold change: recompute open deadlines."""
    return deadlines.recompute_open_deadlines(reason)


def enqueue_recompute(reason: str) -> None:
    """Queue a recomputation once the current transaction commits."""
    transaction.on_commit(lambda: recompute_deadlines.enqueue(reason))


PERIODIC: list[tuple[Any, str]] = [
    # (task, settings attribute holding its period in seconds)
    (deadline_job, "HOTLINE_DEADLINE_JOB_SECONDS"),
]
