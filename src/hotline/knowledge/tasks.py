"""Background jobs of the knowledge app (django-tasks, run by ``hotline worker``).

``PERIODIC`` has the same shape as ``cases.tasks.PERIODIC``: (task, name of the
setting holding its period in seconds). The worker schedules both lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
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


@task()
def reindex_knowledge(words: list[str] | None = None, article_after: int | None = 0,
                      ticket_after: int | None = 0) -> dict[str, Any]:
    """After a dictionary or synonym change: re-segment the articles and tickets
    holding the changed ``words`` (all of them when None). Works for at most
    ``reindex.TASK_SECONDS``, then queues its own continuation (so the worker's
    other jobs are not held up)."""
    from hotline.knowledge import reindex

    state = reindex.reindex(words, state=reindex.Progress(article_after=article_after, ticket_after=ticket_after),
                            seconds=reindex.TASK_SECONDS, batch=reindex.BATCH)
    if not state.finished:
        reindex_knowledge.enqueue(words, state.article_after, state.ticket_after)
    return state.as_dict()


def enqueue_reindex(words: list[str]) -> None:
    """Queue ``reindex_knowledge`` for these words once the current transaction commits."""
    chosen = sorted({w for w in words if w})
    if chosen:
        transaction.on_commit(lambda: reindex_knowledge.enqueue(chosen))


PERIODIC: list[tuple[Any, str]] = [
    (knowledge_job, "HOTLINE_KNOWLEDGE_JOB_SECONDS"),
    (train_dispatch_model, "HOTLINE_DISPATCH_TRAIN_SECONDS"),
]
