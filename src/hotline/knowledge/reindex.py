"""Re-segmenting stored text after the vocabulary changed (新词、同义词生效后重建索引).

Articles are indexed with their words as segmented at save time
(``Article.search_title/search_body``) and tickets with theirs, synonyms folded
(``TicketIndex.tokens``). When administrators add or remove a dictionary word or
change a synonym group, text saved earlier keeps its old segmentation: an article
holding 滨江通 was indexed as 滨江 + 通 and a query for the new word 滨江通 misses it.

- ``reindex(words=[...])`` re-segments only the articles and tickets whose text
  contains one of the changed words (a substring scan, then jieba on the few rows
  found); ``reindex()`` without words re-segments everything.
- Each dictionary or synonym change queues ``tasks.reindex_knowledge`` with the
  words concerned (after commit); the worker runs it in slices of at most
  ``TASK_SECONDS`` and queues the continuation, so a long re-index never holds the
  worker away from the other jobs (deadline urging).
- ``hotline reindex-knowledge [--words …]`` does the same in one go.

Only rows whose segmentation actually changed are written (derived data: no
version or audit row per article; the change that caused it is audited).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hotline.knowledge.models import Article, TicketIndex

BATCH = 500
#: One queued task works this long, then queues its continuation.
TASK_SECONDS = 20.0


@dataclass
class Progress:
    articles_seen: int = 0
    articles_changed: int = 0
    tickets_seen: int = 0
    tickets_changed: int = 0
    #: Where to resume: the last article / ticket id done (None: that part is finished).
    article_after: int | None = 0
    ticket_after: int | None = 0

    @property
    def finished(self) -> bool:
        return self.article_after is None and self.ticket_after is None

    def as_dict(self) -> dict[str, Any]:
        return {"articles_seen": self.articles_seen, "articles_changed": self.articles_changed,
                "tickets_seen": self.tickets_seen, "tickets_changed": self.tickets_changed,
                "article_after": self.article_after, "ticket_after": self.ticket_after, "finished": self.finished}


def _containing(fields: Iterable[str], words: Iterable[str]) -> Q:
    q = Q()
    for word in words:
        for name in fields:
            q |= Q(**{f"{name}__icontains": word})
    return q


def _article_batch(words: list[str] | None, after: int, batch: int) -> list[Article]:
    qs = Article.objects.filter(pk__gt=after)
    if words:
        qs = qs.filter(_containing(["title", "body", "answer", "keywords"], words))
    return list(qs.select_related("owner_department").order_by("pk")[:batch])


def reindex_articles_batch(words: list[str] | None, after: int, batch: int = BATCH) -> tuple[int, int, int | None]:
    """Re-segment the next ``batch`` articles after id ``after`` (containing one of
    ``words``, or all). Returns (seen, changed, next ``after`` or None when done)."""
    from hotline.knowledge.actions import index_article

    rows = _article_batch(words, after, batch)
    changed = []
    for article in rows:
        before = (article.search_title, article.search_body)
        index_article(article)
        if (article.search_title, article.search_body) != before:
            changed.append(article)
    if changed:
        with transaction.atomic():
            # An UPDATE: the SQLite FTS trigger and the PostgreSQL generated columns follow.
            Article.objects.bulk_update(changed, ["search_title", "search_body"], batch_size=200)
    return len(rows), len(changed), (rows[-1].pk if len(rows) == batch else None)


def reindex_tickets_batch(words: list[str] | None, after: int, batch: int = BATCH,
                          since: dt.datetime | None = None) -> tuple[int, int, int | None]:
    """Re-index the next ``batch`` indexed tickets after id ``after`` (whose text
    contains one of ``words``, or all; created since ``since`` if given)."""
    from hotline.cases.models import Ticket
    from hotline.knowledge import similar

    qs = Ticket.objects.filter(pk__gt=after, pk__in=TicketIndex.objects.values("ticket_id"))
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if words:
        qs = qs.filter(_containing(["summary", "content", "result"], words))
    tickets = list(qs.order_by("pk").only(*similar.FIELDS)[:batch])
    old = dict(TicketIndex.objects.filter(ticket_id__in=[t.pk for t in tickets]).values_list("ticket_id", "tokens"))
    now = timezone.now()
    rows = [similar.index_row(t, now) for t in tickets]
    changed = similar.write_rows([r for r in rows if r.tokens != old.get(r.ticket_id)])
    return len(tickets), changed, (tickets[-1].pk if len(tickets) == batch else None)


def reindex(words: list[str] | None = None, *, tickets: bool = True, tickets_since: dt.datetime | None = None,
            state: Progress | None = None, seconds: float | None = None, batch: int = BATCH,
            progress: Callable[[Progress], None] | None = None) -> Progress:
    """Re-segment articles, then tickets, from ``state`` (a fresh start by default),
    for at most ``seconds`` (None: until done). Returns where it stopped."""
    from hotline.knowledge.search import vocabulary

    vocabulary.invalidate()  # this process must segment with the newest words
    state = state or Progress()
    if not tickets and state.ticket_after is not None:
        state.ticket_after = None
    deadline = None if seconds is None else time.monotonic() + seconds
    words = sorted({w.strip().lower() for w in words or [] if w and w.strip()}) or None
    while not state.finished:
        if state.article_after is not None:
            seen, changed, state.article_after = reindex_articles_batch(words, state.article_after, batch)
            state.articles_seen += seen
            state.articles_changed += changed
        else:
            assert state.ticket_after is not None
            seen, changed, state.ticket_after = reindex_tickets_batch(words, state.ticket_after, batch, tickets_since)
            state.tickets_seen += seen
            state.tickets_changed += changed
        if progress:
            progress(state)
        if deadline is not None and time.monotonic() >= deadline:
            break
    return state
