"""Background jobs of the knowledge app (django-tasks, run by ``hotline worker``).

``PERIODIC`` has the same shape as ``cases.tasks.PERIODIC``: (task, name of the
setting holding its period in seconds). The worker schedules both lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_tasks import task

from hotline.lib import clock


@task()
def knowledge_job() -> dict[str, int]:
    """Periodic, cheap: index new and changed tickets for duplicate checks and
    similar-case search, resolve dispatch suggestion logs, mark articles due for review."""
    from hotline.knowledge import actions, similar
    from hotline.knowledge.models import TicketIndex

    now = clock.now()
    last = TicketIndex.objects.order_by("-indexed_at").values_list("indexed_at", flat=True).first()
    # Tickets changed since the last run (a margin for clocks and long transactions).
    changed_since = last - dt.timedelta(minutes=10) if last else None
    indexed = similar.sync_index(now=now, new_limit=50_000, changed_since=changed_since)
    resolved = actions.do_resolve_dispatch_logs(now=now)
    reminded = len(actions.do_review_reminders(now))
    return {"indexed": indexed, "dispatch_logs_resolved": resolved, "review_reminders": reminded}


@task()
def train_dispatch_model() -> dict[str, Any]:
    """Periodic: retrain the dispatch suggestion model on the newest history. Runs in
    the worker process; web processes pick the new file up without a restart."""
    from hotline.knowledge import dispatch

    model = dispatch.train(now=clock.now())
    if model is None:
        return {"trained": False}
    return {"trained": True, "version": model.version, "examples": model.examples, "metrics": model.metrics}


PERIODIC: list[tuple[Any, str]] = [
    (knowledge_job, "HOTLINE_KNOWLEDGE_JOB_SECONDS"),
    (train_dispatch_model, "HOTLINE_DISPATCH_TRAIN_SECONDS"),
]
