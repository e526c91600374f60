"""The read side of the knowledge app: search, the call-taker's assistant, duplicate
checks, suggestions and reports. Each function checks the caller's access
(``knowledge.access``) and validates its parameters (InvalidInput naming the field
and the rule), then reads; the API calls exactly one of them per endpoint.
Writes live in ``knowledge.actions``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q

from hotline.accounts.models import User
from hotline.cases import access as case_access
from hotline.cases.models import Ticket
from hotline.directory.models import Category, Department, District
from hotline.knowledge import access, dispatch, similar
from hotline.knowledge.models import (
    Article,
    ArticleCategory,
    ArticleKind,
    ArticleStatus,
    ArticleUsage,
    ArticleVersion,
    DispatchLog,
    UsageKind,
)
from hotline.knowledge.search import ArticleFilter, engine, highlight, parse_query, search_articles, strip_html
from hotline.lib.errors import InvalidInput, NotFound

VALIDITIES = ("current", "expired", "upcoming", "all")
MAX_LIMIT = 50


# --- serialising ------------------------------------------------------------------------------


def _entry(obj: Any, *, code: bool = True) -> dict[str, Any] | None:
    if obj is None:
        return None
    out = {"id": obj.pk, "name": obj.name}
    if code:
        out["code"] = getattr(obj, "code", None)
    return out


def is_current(a: Article, now: dt.datetime) -> bool:
    return (
        a.status == ArticleStatus.PUBLISHED
        and (a.effective_at is None or a.effective_at <= now)
        and (a.expires_at is None or a.expires_at > now)
    )


def article_summary(a: Article, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": a.pk, "kind": a.kind, "kind_label": str(ArticleKind(a.kind).label), "title": a.title, "answer": a.answer,
        "category": _category(a.category), "owner_department": _entry(a.owner_department), "transfer_phone": a.transfer_phone,
        "status": a.status, "visibility": a.visibility, "effective_at": a.effective_at, "expires_at": a.expires_at,
        "current": is_current(a, now), "version": a.version, "updated_at": a.updated_at, "use_count": a.use_count,
    }


def _category(c: ArticleCategory | None) -> dict[str, Any] | None:
    return {"id": c.pk, "name": c.name, "path": c.path} if c is not None else None


def article_detail(a: Article, user: User | None, now: dt.datetime) -> dict[str, Any]:
    from hotline.knowledge.actions import allowed_actions

    out = article_summary(a, now)
    out.update({
        "body": a.body, "keywords": a.keywords, "review_remind_days": a.review_remind_days, "created_at": a.created_at,
        "published_at": a.published_at,
        "attachments": [{"id": f.pk, "name": f.original_name, "content_type": f.content_type, "size": f.size}
                        for f in a.attachments.order_by("id")],
        "allowed_actions": allowed_actions(a, user) if user is not None else [],
    })
    return out


def public_article(a: Article) -> dict[str, Any]:
    """What the citizen portal and the IVR may show: no internal fields."""
    return {"id": a.pk, "kind": a.kind, "kind_label": str(ArticleKind(a.kind).label), "title": a.title, "body": a.body,
            "answer": a.answer, "category": _category(a.category), "owner_department": _entry(a.owner_department, code=False),
            "transfer_phone": a.transfer_phone, "effective_at": a.effective_at, "expires_at": a.expires_at,
            "updated_at": a.updated_at}


#: An IVR prompt is read aloud: at most this many characters of the standard answer.
IVR_PROMPT_CHARS = 300
IVR_MAX_PROMPTS = 9


def _spoken(text: str, limit: int = IVR_PROMPT_CHARS) -> str:
    """Plain text for text-to-speech: no HTML, no URLs, cut at a sentence end."""
    text = re.sub(r"https?://\S+", "", strip_html(text))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(mark) for mark in "。！？；")
    return cut[: end + 1] if end >= limit // 3 else cut.rstrip("，、,;") + "…"


def ivr_prompts(now: dt.datetime, *, category: int | None = None, limit: int = IVR_MAX_PROMPTS) -> dict[str, Any]:
    """The IVR's consultation menu (自助咨询): public, published, current FAQ and
    guide articles that have a standard answer, the most used first, each with a
    menu key (1-9) and its answer as plain text to read aloud."""
    if not isinstance(limit, int) or not 1 <= limit <= IVR_MAX_PROMPTS:
        raise InvalidInput("limit", "range", f"limit must be 1-{IVR_MAX_PROMPTS}")
    qs = access.visible_articles(None, now).filter(kind__in=[ArticleKind.FAQ, ArticleKind.GUIDE]).exclude(answer="")
    if category is not None:
        node = ArticleCategory.objects.filter(pk=category).first()
        if node is None:
            raise InvalidInput("category", "exists", f"no knowledge category {category}")
        qs = qs.filter(category__path__startswith=node.path)
    items = []
    for key, a in enumerate(qs.order_by("-use_count", "-updated_at", "-id")[:limit], start=1):
        items.append({"key": key, "id": a.pk, "title": _spoken(a.title, 60), "text": _spoken(a.answer),
                      "transfer_phone": a.transfer_phone, "updated_at": a.updated_at})
    return {"items": items}


# --- parameters -------------------------------------------------------------------------------------


def _limit(value: int, name: str = "limit") -> int:
    if not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInput(name, "range", f"{name} must be 1-{MAX_LIMIT}")
    return value


def _query_text(q: str | None, *, required: bool = True) -> str:
    text = (q or "").strip()
    if required and not text:
        raise InvalidInput("q", "required", "q (the search text) is required")
    if len(text) > 500:
        raise InvalidInput("q", "max_length", "q must be at most 500 characters")
    return text


def build_filter(user: User | None, now: dt.datetime, *, category: int | None = None, kind: str | None = None,
                 validity: str = "current", status: str | None = None) -> ArticleFilter:
    if validity not in VALIDITIES:
        raise InvalidInput("validity", "choice", f"validity must be one of {list(VALIDITIES)}")
    statuses = [s for s in (status or "").split(",") if s]
    for s in statuses:
        if s not in ArticleStatus.values:
            raise InvalidInput("status", "choice", f"status must be among {ArticleStatus.values}")
    if kind and kind not in ArticleKind.values:
        raise InvalidInput("kind", "choice", f"kind must be one of {ArticleKind.values}")
    f = access.article_filter(user, now, validity=validity, statuses=statuses or None)
    if kind:
        f.kinds = [kind]
    if category is not None:
        node = ArticleCategory.objects.filter(pk=category).first()
        if node is None:
            raise InvalidInput("category", "exists", f"no knowledge category {category}")
        f.category_path = node.path
    return f


# --- articles ----------------------------------------------------------------------------------------


def search(user: User | None, q: str | None, now: dt.datetime, *, category: int | None = None, kind: str | None = None,
           validity: str = "current", status: str | None = None, limit: int = 10) -> dict[str, Any]:
    text = _query_text(q)
    f = build_filter(user, now, category=category, kind=kind, validity=validity, status=status)
    hits = search_articles(text, f, limit=_limit(limit))
    query = parse_query(text)
    show = article_summary if user is not None else (lambda a, _now: public_article(a))
    return {"query": text, "words": query.terms,
            "items": [{**show(h.article, now), "score": h.score, "title_html": h.title_html, "snippet_html": h.snippet_html}
                      for h in hits]}


def list_articles(user: User, now: dt.datetime, *, category: int | None = None, kind: str | None = None,
                  validity: str = "current", status: str | None = None, page: int = 1, page_size: int = 20) -> dict[str, Any]:
    if page < 1:
        raise InvalidInput("page", "range", "page starts at 1")
    _limit(page_size, "page_size")
    f = build_filter(user, now, category=category, kind=kind, validity=validity, status=status)
    qs = access.visible_articles(user, now).filter(status__in=list(f.statuses), visibility__in=list(f.visibilities))
    if f.validity == "current":
        qs = qs.filter(Q(effective_at__isnull=True) | Q(effective_at__lte=now), Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    elif f.validity == "expired":
        qs = qs.filter(expires_at__lte=now)
    elif f.validity == "upcoming":
        qs = qs.filter(effective_at__gt=now)
    if f.kinds:
        qs = qs.filter(kind__in=list(f.kinds))
    if f.category_path:
        qs = qs.filter(category__path__startswith=f.category_path)
    qs = qs.select_related("category", "owner_department")
    count = qs.count()
    items = list(qs[(page - 1) * page_size: page * page_size])
    return {"count": count, "page": page, "page_size": page_size, "items": [article_summary(a, now) for a in items]}


def get_article(user: User | None, article_id: int, now: dt.datetime) -> dict[str, Any]:
    a = access.get_visible_article(user, article_id, now)
    return article_detail(a, user, now) if user is not None else public_article(a)


def article_versions(user: User, article_id: int, now: dt.datetime) -> list[dict[str, Any]]:
    a = access.get_visible_article(user, article_id, now)
    return [{"version": v.version, "status": v.status, "title": v.title, "changes": v.changes, "changed_by": v.changed_by_name,
             "changed_at": v.changed_at, "comment": v.comment} for v in ArticleVersion.objects.filter(article=a)]


def attachment(user: User | None, article_id: int, attachment_id: int, now: dt.datetime) -> Any:
    a = access.get_visible_article(user, article_id, now)
    att = a.attachments.filter(pk=attachment_id).first()
    if att is None:
        raise NotFound("attachment not found")
    return att


def review_due(user: User, now: dt.datetime) -> list[dict[str, Any]]:
    """Published articles inside their review-reminder period or already expired."""
    access.require(user, access.EDITOR_ROLES, "see articles due for review")
    soon = Article.objects.filter(status=ArticleStatus.PUBLISHED, expires_at__isnull=False).select_related("category", "owner_department")
    out = []
    for a in soon.order_by("expires_at")[:500]:
        if a.expires_at - dt.timedelta(days=a.review_remind_days) <= now:
            out.append({**article_summary(a, now), "expired": a.expires_at <= now, "reminded_at": a.reminded_at})
    return out


def categories(user: User | None) -> list[dict[str, Any]]:
    return [{"id": c.pk, "name": c.name, "parent": c.parent_id, "path": c.path, "sort": c.sort}
            for c in ArticleCategory.objects.order_by("path")]


# --- the call-taker's assistant ---------------------------------------------------------------------


def _id_of(model: Any, value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    text = str(value)
    qs = model.objects.filter(Q(code=text) | Q(pk=int(text)) if text.isdigit() else Q(code=text))
    found = qs.values_list("pk", flat=True).first()
    if found is None:
        raise InvalidInput(name, "exists", f"{name}: no entry {value!r}")
    return int(found)


def _appeal(data: Mapping[str, Any]) -> dict[str, Any]:
    summary = str(data.get("summary") or "")
    content = str(data.get("content") or data.get("text") or "")
    if len(summary) > 200:
        raise InvalidInput("summary", "max_length", "summary must be at most 200 characters")
    if len(content) > 10_000:
        raise InvalidInput("content", "max_length", "content must be at most 10,000 characters")
    phone = re.sub(r"[\s\-]+", "", str(data.get("phone") or data.get("contact_phone") or ""))
    if phone and not re.fullmatch(r"\+?\d{3,20}", phone):
        raise InvalidInput("phone", "phone_format", "phone must be digits")
    return {"summary": summary, "content": content, "phone": phone, "address": str(data.get("address") or "")[:255],
            "district_id": _id_of(District, data.get("district"), "district"),
            "category_id": _id_of(Category, data.get("category"), "category")}


def similar_resolved(user: User, text: str, *, limit: int = 5, exclude_ticket_id: int | None = None) -> list[dict[str, Any]]:
    """Past tickets answered with a result, most similar to ``text`` first."""
    query = parse_query(text)
    if not query:
        return []
    rows = engine().search_tickets(query, limit=limit, exclude_ticket_id=exclude_ticket_id)
    tickets = case_access.visible_tickets(user, Ticket.objects.filter(pk__in=[r[0] for r in rows])).select_related(
        "category", "lead_department")
    by_id = {t.pk: t for t in tickets}
    terms = query.terms
    out = []
    for ticket_id, score in rows:
        t = by_id.get(ticket_id)
        if t is None:
            continue
        out.append({"id": t.pk, "number": t.number, "status": t.status, "summary": t.summary,
                    "summary_html": highlight(t.summary, terms), "result": t.result, "category": _entry(t.category),
                    "lead_department": _entry(t.lead_department), "closed_at": t.closed_at, "score": round(score, 4)})
    return out


def _duplicates_out(user: User, found: list[similar.Candidate]) -> list[dict[str, Any]]:
    tickets = {t.pk: t for t in case_access.visible_tickets(user, Ticket.objects.filter(pk__in=[c.ticket_id for c in found]))}
    out = []
    for c in found:
        t = tickets.get(c.ticket_id)
        if t is None:
            continue
        out.append({"id": t.pk, "number": t.number, "status": t.status, "summary": t.summary, "address": t.address,
                    "created_at": t.created_at, "similarity": c.similarity, "score": c.score, "probable": c.probable,
                    "same_caller": c.same_caller, "same_address": c.same_address, "reasons": c.reasons})
    return out


def duplicates(user: User, data: Mapping[str, Any], now: dt.datetime, *, window_days: int | None = None,
               limit: int = 10) -> dict[str, Any]:
    """判重 for a saved ticket (``ticket``: id or number) or an unsaved appeal."""
    access.require(user, access.DESK_ROLES | access.EDITOR_ROLES, "check for duplicate tickets")
    if window_days is not None and not 1 <= window_days <= 365:
        raise InvalidInput("window_days", "range", "window_days must be 1-365")
    ref = data.get("ticket")
    if ref not in (None, ""):
        ticket = case_access.get_visible_ticket(user, ref)
        found = similar.find_duplicates(ticket, now=now, window_days=window_days, limit=_limit(limit))
        return {"ticket": ticket.number, "window_days": window_days or similar.WINDOW_DAYS, "items": _duplicates_out(user, found)}
    appeal = _appeal(data)
    if not (appeal["summary"] or appeal["content"] or appeal["phone"] or appeal["address"]):
        raise InvalidInput("content", "required", "send a ticket, or the appeal's content, phone or address")
    found = similar.find_duplicates(appeal, now=now, window_days=window_days, limit=_limit(limit))
    return {"ticket": None, "window_days": window_days or similar.WINDOW_DAYS, "items": _duplicates_out(user, found)}


def suggestion_out(s: dispatch.Suggestion) -> dict[str, Any]:
    deps = Department.objects.in_bulk([r.id for r in s.departments])
    cats = Category.objects.in_bulk([r.id for r in s.categories])
    return {
        "source": s.source, "model_version": s.model_version, "rule": s.rule_id,
        "departments": [{**(_entry(deps.get(r.id)) or {"id": r.id}), "confidence": r.confidence} for r in s.departments],
        "categories": [{**(_entry(cats.get(r.id)) or {"id": r.id}), "confidence": r.confidence} for r in s.categories],
    }


def suggest_dispatch(user: User, data: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Ranked lead departments and categories for an appeal or a saved ticket; for a
    saved ticket the suggestion is logged (DispatchLog) to measure accuracy later."""
    from hotline.knowledge.actions import do_log_suggestion

    access.require(user, access.DESK_ROLES | access.EDITOR_ROLES, "ask for dispatch suggestions")
    ref = data.get("ticket")
    if ref not in (None, ""):
        t = case_access.get_visible_ticket(user, ref)
        s = dispatch.suggest(t.summary, t.content, district_id=t.district_id, category_id=t.category_id)
        do_log_suggestion(t, s, now=now)
        return suggestion_out(s)
    appeal = _appeal(data)
    if not (appeal["summary"] or appeal["content"]):
        raise InvalidInput("content", "required", "send a ticket or the appeal's summary/content")
    s = dispatch.suggest(appeal["summary"], appeal["content"], district_id=appeal["district_id"], category_id=appeal["category_id"])
    return suggestion_out(s)


def assist(user: User, data: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Beside the registration form, while the call-taker types: the best articles
    (with their standard answers), the most similar answered tickets, probable
    duplicates and the dispatch suggestion."""
    access.require(user, access.DESK_ROLES | access.EDITOR_ROLES, "use the desk assistant")
    appeal = _appeal(data)
    text = f"{appeal['summary']} {appeal['content']}".strip()
    if not text:
        raise InvalidInput("content", "required", "send the appeal's summary or content")
    f = access.article_filter(user, now)
    articles = [{**article_summary(h.article, now), "score": h.score, "title_html": h.title_html, "snippet_html": h.snippet_html}
                for h in search_articles(text, f, limit=5)]
    dupes = similar.find_duplicates(appeal, now=now, limit=5) if (appeal["phone"] or appeal["address"] or text) else []
    s = dispatch.suggest(appeal["summary"], appeal["content"], district_id=appeal["district_id"], category_id=appeal["category_id"])
    return {"articles": articles, "similar_tickets": similar_resolved(user, text, limit=5),
            "duplicates": _duplicates_out(user, dupes), "suggestion": suggestion_out(s)}


# --- reports --------------------------------------------------------------------------------------------


def _period(since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime, default_days: int = 30) -> tuple[dt.datetime, dt.datetime]:
    until = until or now
    since = since or until - dt.timedelta(days=default_days)
    if since >= until:
        raise InvalidInput("since", "before_until", "since must be earlier than until")
    if until - since > dt.timedelta(days=3660):
        raise InvalidInput("since", "range", "the period may span at most ten years")
    return since, until


def usage_report(user: User, now: dt.datetime, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                 limit: int = 20) -> dict[str, Any]:
    """Which articles answered tickets in the period, most used first."""
    access.require(user, access.REPORT_ROLES | access.EDITOR_ROLES, "read knowledge usage")
    since, until = _period(since, until, now)
    rows = (ArticleUsage.objects.filter(at__gte=since, at__lt=until).values("article_id")
            .annotate(total=Count("id"), answers=Count("id", filter=Q(kind=UsageKind.ANSWER)),
                      tickets=Count("ticket_id", distinct=True))
            .order_by("-answers", "-total", "article_id")[: _limit(limit)])
    titles = dict(Article.objects.filter(pk__in=[r["article_id"] for r in rows]).values_list("pk", "title"))
    return {"since": since, "until": until,
            "items": [{"article": r["article_id"], "title": titles.get(r["article_id"], ""), "uses": r["total"],
                       "answers": r["answers"], "tickets": r["tickets"]} for r in rows]}


def dispatch_accuracy(user: User, now: dt.datetime, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                      bucket: str = "week") -> dict[str, Any]:
    """How often the dispatcher's final lead department was the first / among the
    first three suggestions, per day or week, and by source (rule or model)."""
    access.require(user, access.REPORT_ROLES | access.EDITOR_ROLES, "read dispatch accuracy")
    if bucket not in ("day", "week"):
        raise InvalidInput("bucket", "choice", "bucket must be day or week")
    since, until = _period(since, until, now, 90)
    from django.utils import timezone

    logs = DispatchLog.objects.filter(at__gte=since, at__lt=until, resolved_at__isnull=False).values_list(
        "at", "source", "matched_top1", "matched_top3")
    buckets: dict[str, dict[str, int]] = {}
    by_source: dict[str, dict[str, int]] = {}
    total = {"count": 0, "top1": 0, "top3": 0}
    for at, source, top1, top3 in logs.iterator(chunk_size=2000):
        day = timezone.localtime(at).date()
        key = (day - dt.timedelta(days=day.weekday())).isoformat() if bucket == "week" else day.isoformat()
        for acc in (buckets.setdefault(key, {"count": 0, "top1": 0, "top3": 0}),
                    by_source.setdefault(source, {"count": 0, "top1": 0, "top3": 0}), total):
            acc["count"] += 1
            acc["top1"] += bool(top1)
            acc["top3"] += bool(top3)

    def rate(acc: dict[str, int]) -> dict[str, Any]:
        n = acc["count"]
        return {"count": n, "top1": round(acc["top1"] / n, 4) if n else None, "top3": round(acc["top3"] / n, 4) if n else None}

    model = dispatch.models.get()
    return {"since": since, "until": until, "bucket": bucket, "total": rate(total),
            "by_source": {k: rate(v) for k, v in sorted(by_source.items())},
            "series": [{"start": k, **rate(v)} for k, v in sorted(buckets.items())],
            "model": {"version": model.version, "trained_at": model.trained_at, "examples": model.examples,
                      "metrics": model.metrics} if model else None}



# --- vocabulary and routing (administration) -----------------------------------------------------


def words(user: User) -> list[dict[str, Any]]:
    from hotline.knowledge.models import DictionaryWord

    access.require(user, access.ADMIN_ROLES, "read the search dictionary")
    return [{"id": w.pk, "word": w.word, "freq": w.freq, "tag": w.tag, "created_at": w.created_at}
            for w in DictionaryWord.objects.order_by("word")[:10_000]]


def synonyms(user: User) -> list[dict[str, Any]]:
    from hotline.knowledge.models import SynonymGroup

    access.require(user, access.ADMIN_ROLES, "read synonyms")
    return [{"id": g.pk, "words": g.words, "updated_at": g.updated_at} for g in SynonymGroup.objects.order_by("id")[:10_000]]


def routing_rule_out(r: Any) -> dict[str, Any]:
    return {"id": r.pk, "category": _entry(r.category), "district": _entry(r.district), "department": _entry(r.department),
            "active": r.active, "note": r.note, "created_at": r.created_at}


def routing_rules(user: User) -> list[dict[str, Any]]:
    from hotline.knowledge.models import RoutingRule

    access.require(user, access.ADMIN_ROLES | access.DESK_ROLES, "read routing rules")
    return [routing_rule_out(r) for r in RoutingRule.objects.select_related("category", "district", "department").order_by("id")]
