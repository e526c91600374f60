"""Knowledge endpoints, mounted at /api/knowledge: articles (CRUD, workflow,
attachments, versions, import/export), search (staff and public), the call-taker's
assistant, duplicate checks, dispatch suggestions and their accuracy, hot topics,
and the administration of dictionary words, synonyms and routing rules.

Thin: each endpoint is one call into ``knowledge.actions`` (writes) or
``knowledge.queries`` (reads), which check access and input. The contract is
documented in docs/knowledge.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from hotline.knowledge import actions, hot, queries, transfer
from hotline.knowledge.models import ArticleKind, UsageKind, Visibility
from hotline.lib import clock
from hotline.lib.errors import InvalidInput

router = Router(tags=["knowledge"])


def _user(request: HttpRequest) -> Any:
    return request.user


# --- schemas ---------------------------------------------------------------------------------


class ArticleIn(Schema):
    kind: ArticleKind = Field(..., description="policy 政策法规 / guide 办事指南 / duty 部门职责 / faq 常见问题 / news 资讯公告")
    title: str = Field(..., description="标题 (≤200)")
    body: str = Field("", description="正文: HTML, sanitised (scripts, event handlers, unsafe links removed)")
    answer: str = Field("", description="标准答案 the call-taker copies into the reply")
    keywords: str = ""
    category: int | None = Field(None, description="knowledge category id")
    owner_department: int | str | None = Field(None, description="department id or code (required for duty articles)")
    transfer_phone: str = ""
    visibility: Visibility = Visibility.INTERNAL
    effective_at: str | None = Field(None, description="ISO date or date-time (生效时间)")
    expires_at: str | None = Field(None, description="ISO date or date-time (失效时间)")
    review_remind_days: int = 30


class ArticlePatch(Schema):
    kind: ArticleKind | None = None
    title: str | None = None
    body: str | None = None
    answer: str | None = None
    keywords: str | None = None
    category: int | None = None
    owner_department: int | str | None = None
    transfer_phone: str | None = None
    visibility: Visibility | None = None
    effective_at: str | None = None
    expires_at: str | None = None
    review_remind_days: int | None = None
    version: int | None = Field(None, description="the version the form was loaded at: 409 if the article changed since")
    comment: str = Field("", max_length=1000, description="what changed and why (kept in the version history)")


class TransitionIn(Schema):
    comment: str = Field("", max_length=2000)


class SearchParams(Schema):
    q: str = Field("", description="the search text (segmented with the city dictionary)")
    category: int | None = Field(None, description="a knowledge category: includes its sub-categories")
    kind: str | None = None
    validity: str = Field("current", description="current / expired / upcoming / all (editors only; others always current)")
    status: str | None = Field(None, description="comma-separated statuses (editors only)")
    limit: int = 10


class ListParams(Schema):
    category: int | None = None
    kind: str | None = None
    validity: str = "current"
    status: str | None = None
    page: int = 1
    page_size: int = 20


class AppealIn(Schema):
    summary: str = Field("", description="诉求摘要 as typed so far")
    content: str = Field("", description="诉求内容 as typed so far")
    phone: str = Field("", description="caller's phone (same-caller duplicates)")
    address: str = ""
    district: int | str | None = Field(None, description="district id or code")
    category: int | str | None = Field(None, description="category id or code, if already chosen")


class DuplicateIn(AppealIn):
    ticket: int | str | None = Field(None, description="a saved ticket (id or number) instead of the appeal fields")
    window_days: int | None = Field(None, description="look back this many days (default HOTLINE_DUPLICATE_WINDOW_DAYS)")
    limit: int = 10


class SuggestIn(AppealIn):
    ticket: int | str | None = Field(None, description="a saved ticket: the suggestion is logged to measure accuracy")


class UsageIn(Schema):
    ticket: int | str | None = Field(None, description="the ticket this article answered (id or number)")
    kind: UsageKind = UsageKind.ANSWER
    query: str = Field("", max_length=200)


class OutcomeIn(Schema):
    ticket: int | str = Field(..., description="the ticket just dispatched")


class CategoryIn(Schema):
    name: str
    parent: int | None = None
    sort: int = 0


class WordIn(Schema):
    word: str
    freq: int = 2000
    tag: str = "nz"


class SynonymsIn(Schema):
    words: list[str]


class RoutingRuleIn(Schema):
    category: int | str
    district: int | str | None = None
    department: int | str
    active: bool = True
    note: str = Field("", max_length=200)


class PeriodParams(Schema):
    since: dt.datetime | None = None
    until: dt.datetime | None = None


# --- articles ------------------------------------------------------------------------------------


@router.get("/articles", summary="Browse articles (filters, pagination); editors may ask for any status/validity")
def list_articles(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    return queries.list_articles(_user(request), clock.now(), **params.dict())


@router.post("/articles", response={201: dict[str, Any]}, summary="Create a draft article")
def create_article(request: HttpRequest, payload: ArticleIn) -> Status[dict[str, Any]]:
    now = clock.now()
    a = actions.do_create_article(_user(request), payload.dict(), now=now)
    return Status(201, queries.article_detail(a, _user(request), now))


@router.get("/articles/review-due", summary="Published articles inside their review reminder period (or expired)")
def review_due(request: HttpRequest) -> list[dict[str, Any]]:
    return queries.review_due(_user(request), clock.now())


@router.get("/articles/export", summary="Export articles as XLSX or Markdown (editors)")
def export_articles(request: HttpRequest, format: str = "xlsx", status: str | None = None) -> HttpResponse:
    return transfer.export_response(_user(request), format, status=status, now=clock.now())


@router.post("/articles/import", summary="Import articles from XLSX or Markdown as drafts; per-row report")
def import_articles(request: HttpRequest, file: File[UploadedFile], dry_run: bool = False) -> dict[str, Any]:
    return transfer.import_file(_user(request), file.name or "", file.read(transfer.MAX_BYTES + 1), dry_run=dry_run, now=clock.now())


@router.get("/articles/{article_id}", summary="One article (with attachments and the actions allowed to you)")
def get_article(request: HttpRequest, article_id: int) -> dict[str, Any]:
    return queries.get_article(_user(request), article_id, clock.now())


@router.patch("/articles/{article_id}", summary="Edit an article (a new version)")
def update_article(request: HttpRequest, article_id: int, payload: ArticlePatch) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    version, comment = data.pop("version", None), data.pop("comment", "")
    if not data:
        raise InvalidInput("body", "not_empty", "send at least one field to change")
    now = clock.now()
    a = actions.do_update_article(_user(request), article_id, data, version=version, comment=comment, now=now)
    return queries.article_detail(a, _user(request), now)


@router.post("/articles/{article_id}/workflow/{action}", summary="Workflow: review / send_back / publish / retire / revise")
def transition(request: HttpRequest, article_id: int, action: str, payload: TransitionIn) -> dict[str, Any]:
    now = clock.now()
    a = actions.do_transition(_user(request), article_id, action, comment=payload.comment, now=now)
    return queries.article_detail(a, _user(request), now)


@router.get("/articles/{article_id}/versions", summary="Version history: who changed what, newest first")
def versions(request: HttpRequest, article_id: int) -> list[dict[str, Any]]:
    return queries.article_versions(_user(request), article_id, clock.now())


@router.post("/articles/{article_id}/attachments", response={201: dict[str, Any]}, summary="Attach a file")
def add_attachment(request: HttpRequest, article_id: int, file: File[UploadedFile]) -> Status[dict[str, Any]]:
    att = actions.do_attach(_user(request), article_id, file.name or "file", file.content_type or "",
                            file.read(actions.MAX_ATTACHMENT + 1), now=clock.now())
    return Status(201, {"id": att.pk, "name": att.original_name, "content_type": att.content_type, "size": att.size})


@router.get("/articles/{article_id}/attachments/{attachment_id}", summary="Download an attachment")
def download_attachment(request: HttpRequest, article_id: int, attachment_id: int) -> FileResponse:
    att = queries.attachment(_user(request), article_id, attachment_id, clock.now())
    return FileResponse(att.file.open("rb"), as_attachment=True, filename=att.original_name, content_type=att.content_type)


@router.post("/articles/{article_id}/usage", response={201: dict[str, Any]}, summary="Record that an article answered a ticket")
def record_usage(request: HttpRequest, article_id: int, payload: UsageIn) -> Status[dict[str, Any]]:
    u = actions.do_record_usage(_user(request), article_id, ticket_ref=payload.ticket, kind=payload.kind, query=payload.query,
                                now=clock.now())
    return Status(201, {"id": u.pk, "article": u.article_id, "ticket": u.ticket_id, "kind": u.kind, "at": u.at})


@router.get("/categories", summary="The knowledge category tree (flat, ordered by path)")
def list_categories(request: HttpRequest) -> list[dict[str, Any]]:
    return queries.categories(_user(request))


@router.post("/categories", response={201: dict[str, Any]}, summary="Add a knowledge category (editors)")
def create_category(request: HttpRequest, payload: CategoryIn) -> Status[dict[str, Any]]:
    c = actions.do_create_category(_user(request), payload.name, payload.parent, payload.sort)
    return Status(201, {"id": c.pk, "name": c.name, "parent": c.parent_id, "path": c.path, "sort": c.sort})


# --- search ----------------------------------------------------------------------------------------


@router.get("/search", summary="Full-text search with highlighting (segmented Chinese, synonyms, BM25/ts_rank)")
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    return queries.search(_user(request), params.q, clock.now(), category=params.category, kind=params.kind,
                          validity=params.validity, status=params.status, limit=params.limit)


@router.get("/public/search", auth=None, summary="Citizen portal / IVR: public, published, current articles only")
def public_search(request: HttpRequest, q: str = "", category: int | None = None, kind: str | None = None,
                  limit: int = 10) -> dict[str, Any]:
    return queries.search(None, q, clock.now(), category=category, kind=kind, limit=limit)


@router.get("/public/ivr-prompts", auth=None, summary="IVR consultation menu: public current FAQ/guide answers as plain text, most used first")
def public_ivr_prompts(request: HttpRequest, category: int | None = None, limit: int = queries.IVR_MAX_PROMPTS) -> dict[str, Any]:
    return queries.ivr_prompts(clock.now(), category=category, limit=limit)


@router.get("/public/articles/{article_id}", auth=None, summary="One public, published, current article")
def public_article(request: HttpRequest, article_id: int) -> dict[str, Any]:
    return queries.get_article(None, article_id, clock.now())


# --- the desk ----------------------------------------------------------------------------------------


@router.post("/assist", summary="Desk assistant: articles, similar answered tickets, duplicates, dispatch suggestion")
def assist(request: HttpRequest, payload: AppealIn) -> dict[str, Any]:
    return queries.assist(_user(request), payload.dict(), clock.now())


@router.post("/duplicates", summary="判重: probable duplicates of a ticket or of an unsaved appeal, with scores")
def duplicates(request: HttpRequest, payload: DuplicateIn) -> dict[str, Any]:
    data = payload.dict()
    return queries.duplicates(_user(request), data, clock.now(), window_days=data.pop("window_days"), limit=data.pop("limit"))


@router.post("/dispatch/suggest", summary="Ranked lead departments and categories with confidence (rules first)")
def suggest(request: HttpRequest, payload: SuggestIn) -> dict[str, Any]:
    return queries.suggest_dispatch(_user(request), payload.dict(), clock.now())


@router.post("/dispatch/outcome", summary="Hook after dispatch: compare the final lead department with the suggestion")
def outcome(request: HttpRequest, payload: OutcomeIn) -> dict[str, Any]:
    return actions.do_dispatch_outcome(_user(request), payload.ticket, now=clock.now())


@router.get("/dispatch/accuracy", summary="Top-1/top-3 agreement of suggestions with final dispatch, over time")
def accuracy(request: HttpRequest, params: Query[PeriodParams], bucket: str = "week") -> dict[str, Any]:
    return queries.dispatch_accuracy(_user(request), clock.now(), since=params.since, until=params.until, bucket=bucket)


@router.get("/usage", summary="Which articles answered tickets in the period")
def usage(request: HttpRequest, params: Query[PeriodParams], limit: int = 20) -> dict[str, Any]:
    return queries.usage_report(_user(request), clock.now(), since=params.since, until=params.until, limit=limit)


@router.get("/hot-topics", summary="热点: terms and categories rising sharply against their baseline, with examples")
def hot_topics(request: HttpRequest, period: str = "day", limit: int = 10) -> dict[str, Any]:
    return hot.hot_topics(_user(request), clock.now(), period=period, limit=limit)


# --- vocabulary and routing ----------------------------------------------------------------------------


@router.get("/words", summary="Administrators' dictionary words (on top of the packaged dictionary)")
def list_words(request: HttpRequest) -> list[dict[str, Any]]:
    return queries.words(_user(request))


@router.post("/words", response={201: dict[str, Any]}, summary="Add a word to the segmentation dictionary")
def add_word(request: HttpRequest, payload: WordIn) -> Status[dict[str, Any]]:
    w = actions.do_add_word(_user(request), payload.word, freq=payload.freq, tag=payload.tag, now=clock.now())
    return Status(201, {"id": w.pk, "word": w.word, "freq": w.freq, "tag": w.tag})


@router.delete("/words/{word_id}", response={204: None}, summary="Remove a dictionary word")
def delete_word(request: HttpRequest, word_id: int) -> Status[None]:
    actions.do_delete_word(_user(request), word_id)
    return Status(204, None)


@router.get("/synonyms", summary="Synonym groups added by administrators")
def list_synonyms(request: HttpRequest) -> list[dict[str, Any]]:
    return queries.synonyms(_user(request))


@router.post("/synonyms", response={201: dict[str, Any]}, summary="Add a synonym group")
def add_synonyms(request: HttpRequest, payload: SynonymsIn) -> Status[dict[str, Any]]:
    g = actions.do_save_synonyms(_user(request), payload.words, now=clock.now())
    return Status(201, {"id": g.pk, "words": g.words})


@router.put("/synonyms/{group_id}", summary="Replace a synonym group's words")
def save_synonyms(request: HttpRequest, group_id: int, payload: SynonymsIn) -> dict[str, Any]:
    g = actions.do_save_synonyms(_user(request), payload.words, group_id=group_id, now=clock.now())
    return {"id": g.pk, "words": g.words}


@router.delete("/synonyms/{group_id}", response={204: None}, summary="Remove a synonym group")
def delete_synonyms(request: HttpRequest, group_id: int) -> Status[None]:
    actions.do_delete_synonyms(_user(request), group_id)
    return Status(204, None)


@router.get("/routing-rules", summary="Explicit routing rules (category [+ district] → department)")
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    return queries.routing_rules(_user(request))


@router.post("/routing-rules", response={201: dict[str, Any]}, summary="Create or replace the rule of (category, district)")
def save_rule(request: HttpRequest, payload: RoutingRuleIn) -> Status[dict[str, Any]]:
    r = actions.do_save_routing_rule(_user(request), payload.dict(), now=clock.now())
    return Status(201, queries.routing_rule_out(r))


@router.delete("/routing-rules/{rule_id}", response={204: None}, summary="Remove a routing rule")
def delete_rule(request: HttpRequest, rule_id: int) -> Status[None]:
    actions.do_delete_routing_rule(_user(request), rule_id)
    return Status(204, None)
