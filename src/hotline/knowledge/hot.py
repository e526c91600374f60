"""Hot topics (热点) for the leaders' dashboard: categories and terms whose volume in
the last day (or week) rises sharply against their baseline.

- window: the last 24 hours (``day``) or 7 days (``week``) before ``now``;
- baseline: the 7 windows (day) or 4 windows (week) before it, averaged per window;
- a topic is hot when its window count is at least ``MIN_COUNT[period]`` and at least
  ``RISE`` times its baseline (a baseline under 1 counts as 1, so a brand-new topic
  must reach ``RISE`` tickets); hot topics are ranked by a Poisson z-like score
  ``(count - baseline) / sqrt(baseline + 1)``.

Categories are counted in SQL on tickets. Terms are document frequencies over the
segmented appeal words of ``TicketIndex`` (the index of duplicate detection),
reading at most ``MAX_ROWS`` rows per period so the report stays bounded.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any

from django.db.models import Count

from hotline.accounts.models import User
from hotline.cases import access as case_access
from hotline.cases.models import Status, Ticket
from hotline.directory.models import Category
from hotline.knowledge import access, similar
from hotline.knowledge.models import TicketIndex
from hotline.lib.errors import InvalidInput

PERIODS = {"day": (dt.timedelta(days=1), 7), "week": (dt.timedelta(days=7), 4)}
MIN_COUNT = {"day": 5, "week": 10}
RISE = 2.0
MAX_ROWS = 50_000
IGNORED_STATUSES = (Status.DRAFT, Status.VOIDED)


def _score(count: int, baseline: float) -> float:
    return round((count - baseline) / math.sqrt(baseline + 1), 3)


def _is_hot(count: int, baseline: float, period: str) -> bool:
    return count >= MIN_COUNT[period] and count >= RISE * max(baseline, 1.0)


def hot_topics(user: User, now: dt.datetime, *, period: str = "day", limit: int = 10) -> dict[str, Any]:
    access.require(user, access.HOT_TOPIC_ROLES, "read hot topics")
    if period not in PERIODS:
        raise InvalidInput("period", "choice", f"period must be one of {sorted(PERIODS)}")
    if not 1 <= limit <= 50:
        raise InvalidInput("limit", "range", "limit must be 1-50")
    window, n_base = PERIODS[period]
    start = now - window
    base_start = start - n_base * window
    similar.sync_index(now=now, new_limit=2000)
    tickets = Ticket.objects.exclude(status__in=IGNORED_STATUSES).filter(category__isnull=False)

    current = dict(tickets.filter(created_at__gte=start, created_at__lt=now).values_list("category_id").annotate(n=Count("id")))
    before = dict(tickets.filter(created_at__gte=base_start, created_at__lt=start).values_list("category_id").annotate(n=Count("id")))
    cats = []
    for cat_id, count in current.items():
        baseline = before.get(cat_id, 0) / n_base
        if _is_hot(count, baseline, period):
            cats.append((cat_id, count, baseline))
    cats.sort(key=lambda c: _score(c[1], c[2]), reverse=True)
    cats = cats[:limit]
    names = {c.pk: c for c in Category.objects.filter(pk__in=[c[0] for c in cats])}
    visible = case_access.visible_tickets(user, tickets.filter(created_at__gte=start, created_at__lt=now))
    categories = []
    for cat_id, count, baseline in cats:
        examples = visible.filter(category_id=cat_id).order_by("-created_at")[:3]
        c = names.get(cat_id)
        categories.append({"category": {"id": cat_id, "code": c.code if c else None, "name": c.name if c else ""},
                           "count": count, "baseline": round(baseline, 2), "rise": round(count / max(baseline, 1.0), 2),
                           "score": _score(count, baseline), "examples": [_example(t) for t in examples]})

    def rows(lo: dt.datetime, hi: dt.datetime) -> list[tuple[int, str]]:
        qs = TicketIndex.objects.filter(created_at__gte=lo, created_at__lt=hi).order_by("-created_at")
        return list(qs.values_list("ticket_id", "tokens")[:MAX_ROWS])

    now_rows, base_rows = rows(start, now), rows(base_start, start)
    now_df: Counter[str] = Counter()
    holders: dict[str, list[int]] = {}
    for ticket_id, tokens in now_rows:
        for w in set(similar.appeal_words(tokens)):
            now_df[w] += 1
            if len(holders.setdefault(w, [])) < 20:
                holders[w].append(ticket_id)
    base_df: Counter[str] = Counter()
    for _, tokens in base_rows:
        base_df.update(set(similar.appeal_words(tokens)))
    hot_terms = [(w, n, base_df.get(w, 0) / n_base) for w, n in now_df.items() if _is_hot(n, base_df.get(w, 0) / n_base, period)]
    hot_terms.sort(key=lambda t: (_score(t[1], t[2]), t[0]), reverse=True)
    terms = []
    for word, count, baseline in hot_terms[:limit]:
        examples = case_access.visible_tickets(user, Ticket.objects.filter(pk__in=holders[word])).order_by("-created_at")[:3]
        terms.append({"term": word, "count": count, "baseline": round(baseline, 2), "rise": round(count / max(baseline, 1.0), 2),
                      "score": _score(count, baseline), "examples": [_example(t) for t in examples]})
    return {"period": period, "window_start": start, "window_end": now, "baseline_start": base_start,
            "baseline_windows": n_base, "tickets_in_window": sum(current.values()), "categories": categories, "terms": terms}


def _example(t: Ticket) -> dict[str, Any]:
    return {"id": t.pk, "number": t.number, "summary": t.summary, "created_at": t.created_at, "status": t.status}
