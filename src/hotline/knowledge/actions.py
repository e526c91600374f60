"""Every write of the knowledge app: ``check_*`` validates input and access,
``do_*`` writes, appends the version/audit rows, all in one transaction.

The publish workflow is one table (``TRANSITIONS``): draft → reviewed → published →
retired, with "send back" (reviewed → draft) and "revise" (retired → draft).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hotline.accounts.models import User
from hotline.audit import actions as audit
from hotline.cases import access as case_access
from hotline.directory.models import Category, Department, District
from hotline.knowledge import access, dispatch, tasks
from hotline.knowledge.models import (
    ARTICLE_TRACKED,
    Article,
    ArticleAttachment,
    ArticleCategory,
    ArticleKind,
    ArticleStatus,
    ArticleUsage,
    ArticleVersion,
    DictionaryWord,
    DispatchLog,
    RoutingRule,
    SynonymGroup,
    UsageKind,
    Visibility,
)
from hotline.knowledge.search import segment, strip_html, vocabulary
from hotline.lib.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from hotline.lib.validation import text as text_field

# --- the publish workflow ------------------------------------------------------------

#: action -> (allowed source states, target state)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "review": (frozenset({ArticleStatus.DRAFT}), ArticleStatus.REVIEWED),
    "send_back": (frozenset({ArticleStatus.REVIEWED}), ArticleStatus.DRAFT),
    "publish": (frozenset({ArticleStatus.REVIEWED}), ArticleStatus.PUBLISHED),
    "retire": (frozenset({ArticleStatus.PUBLISHED, ArticleStatus.REVIEWED, ArticleStatus.DRAFT}), ArticleStatus.RETIRED),
    "revise": (frozenset({ArticleStatus.RETIRED}), ArticleStatus.DRAFT),
}


def allowed_actions(article: Article, user: User) -> list[str]:
    if not access.is_editor(user):
        return ["edit"] if _may_edit(user, article) else []
    out = [name for name, (sources, _) in TRANSITIONS.items() if article.status in sources]
    if article.status != ArticleStatus.RETIRED:
        out.insert(0, "edit")
    return out


def _may_edit(user: User, article: Article) -> bool:
    try:
        access.check_can_edit(user, article)
        return True
    except Exception:
        return False


# --- HTML ---------------------------------------------------------------------------------

ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "h2", "h3", "h4", "table", "thead",
                "tbody", "tr", "th", "td", "a", "blockquote", "pre", "code", "span", "div", "hr"}
VOID_TAGS = {"br", "hr"}
ALLOWED_ATTRS = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
SAFE_URL = re.compile(r"^(https?://|mailto:|tel:|/|#)", re.IGNORECASE)


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "iframe", "object"):
            self.skip += 1
            return
        if tag not in ALLOWED_TAGS or self.skip:
            return
        kept = []
        for name, value in attrs:
            if name in ALLOWED_ATTRS.get(tag, set()) and value is not None:
                if name == "href" and not SAFE_URL.match(value.strip()):
                    continue
                kept.append(f' {name}="{_esc(value)}"')
        self.out.append(f"<{tag}{''.join(kept)}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "iframe", "object"):
            self.skip = max(0, self.skip - 1)
            return
        if tag in ALLOWED_TAGS and tag not in VOID_TAGS and not self.skip:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(_esc(data))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def sanitize_html(text: str) -> str:
    """Keep a small set of formatting tags; drop scripts, event handlers and unsafe links."""
    parser = _Sanitizer()
    parser.feed(text or "")
    parser.close()
    return "".join(parser.out)


# --- input ----------------------------------------------------------------------------------

ARTICLE_FIELDS = {"kind", "title", "body", "answer", "keywords", "category", "owner_department", "transfer_phone",
                  "visibility", "effective_at", "expires_at", "review_remind_days"}


def _text(data: Mapping[str, Any], name: str, errors: list[dict[str, str]], *, required: bool, limit: int) -> str:
    return text_field(data, name, errors, required=required, max_length=limit)


def _when(data: Mapping[str, Any], name: str, errors: list[dict[str, str]]) -> dt.datetime | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        text = str(value).strip()
        parsed = parse_datetime(text)
        if parsed is None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            parsed = parse_datetime(text + "T00:00:00")
        if parsed is None:
            errors.append({"field": name, "rule": "datetime", "message": f"{name} must be an ISO date or date-time"})
            return None
    assert parsed is not None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _fk(model: Any, value: Any, name: str, errors: list[dict[str, str]], *, by_code: bool = True) -> Any:
    if value in (None, ""):
        return None
    qs = model.objects.all()
    obj = None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit() and not by_code):
        obj = qs.filter(pk=int(value)).first()
    elif by_code:
        obj = qs.filter(code=str(value)).first() or (qs.filter(pk=int(value)).first() if str(value).isdigit() else None)
    if obj is None:
        errors.append({"field": name, "rule": "exists", "message": f"{name}: no entry {value!r}"})
    return obj


def check_article_fields(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    for name in sorted(set(data) - ARTICLE_FIELDS):
        errors.append({"field": name, "rule": "unknown_field", "message": f"unknown field {name}"})
    out: dict[str, Any] = {}

    def wanted(name: str) -> bool:
        return not partial or name in data

    if wanted("kind"):
        kind = data.get("kind")
        if kind not in ArticleKind.values:
            errors.append({"field": "kind", "rule": "choice", "message": f"kind must be one of {ArticleKind.values}"})
        out["kind"] = kind
    if wanted("title"):
        out["title"] = _text(data, "title", errors, required=True, limit=200)
    if wanted("body"):
        out["body"] = sanitize_html(_text(data, "body", errors, required=False, limit=200_000)).strip()
    if wanted("answer"):
        out["answer"] = _text(data, "answer", errors, required=False, limit=5000)
    if wanted("keywords"):
        out["keywords"] = _text(data, "keywords", errors, required=False, limit=500)
    if wanted("transfer_phone"):
        phone = _text(data, "transfer_phone", errors, required=False, limit=64)
        if phone and not re.fullmatch(r"[0-9+\-() ,、转]{3,64}", phone):
            errors.append({"field": "transfer_phone", "rule": "phone_format", "message": "transfer_phone must be a phone number"})
        out["transfer_phone"] = phone
    if wanted("visibility"):
        visibility = data.get("visibility") or Visibility.INTERNAL
        if visibility not in Visibility.values:
            errors.append({"field": "visibility", "rule": "choice", "message": f"visibility must be one of {Visibility.values}"})
        out["visibility"] = visibility
    if wanted("category"):
        out["category"] = _fk(ArticleCategory, data.get("category"), "category", errors, by_code=False)
    if wanted("owner_department"):
        out["owner_department"] = _fk(Department, data.get("owner_department"), "owner_department", errors)
    for name in ("effective_at", "expires_at"):
        if wanted(name):
            out[name] = _when(data, name, errors)
    if wanted("review_remind_days"):
        days = data.get("review_remind_days", 30)
        if days is None:
            days = 30
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
            errors.append({"field": "review_remind_days", "rule": "range", "message": "review_remind_days must be 0-365"})
        out["review_remind_days"] = days
    if errors:
        raise InvalidInput.many(errors)
    return out


def _check_dates(article: Article) -> None:
    if article.effective_at and article.expires_at and article.expires_at <= article.effective_at:
        raise InvalidInput("expires_at", "after_effective_at", "expires_at must be later than effective_at")
    if article.kind == ArticleKind.DUTY and not article.owner_department_id:
        raise InvalidInput("owner_department", "required", "a duty article needs its owner department")


def index_article(article: Article) -> None:
    """Fill the segmented search fields (search_title, search_body) from the text."""
    article.search_title = segment(article.title)
    article.search_body = segment(" ".join([article.keywords, article.answer, strip_html(article.body),
                                             article.owner_department.name if article.owner_department else ""]))


def _version(article: Article, actor: User | None, changes: list[dict[str, Any]], now: dt.datetime, comment: str = "") -> None:
    ArticleVersion.objects.create(
        article=article, version=article.version, title=article.title, body=article.body, answer=article.answer,
        status=article.status, changes=changes, changed_by=actor if getattr(actor, "pk", None) else None,
        changed_by_name=str(getattr(actor, "username", None) or "system"), changed_at=now, comment=comment,
    )


def do_create_article(actor: User, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Article:
    now = now or timezone.now()
    values = check_article_fields(data)
    owner = values.get("owner_department")
    access.check_can_create(actor, values["kind"], owner.pk if owner else None)
    with transaction.atomic():
        article = Article(**values, status=ArticleStatus.DRAFT, created_by=actor, created_at=now, updated_by=actor, updated_at=now)
        _check_dates(article)
        index_article(article)
        article.save()
        changes = audit.diff({}, audit.snapshot(article, ARTICLE_TRACKED))
        _version(article, actor, changes, now, "created")
        audit.record(actor, "article.create", article, changes=changes, at=now)
    return article


def _locked(actor: User | None, article_id: int, now: dt.datetime) -> Article:
    article = Article.objects.select_for_update().filter(pk=article_id).first()
    if article is None or (actor is not None and not access.visible_articles(actor, now, Article.objects.filter(pk=article_id)).exists()):
        raise NotFound("article not found")
    return article


def do_update_article(actor: User, article_id: int, data: Mapping[str, Any], *, version: int | None = None,
                      comment: str = "", now: dt.datetime | None = None) -> Article:
    now = now or timezone.now()
    values = check_article_fields(data, partial=True)
    with transaction.atomic():
        article = _locked(actor, article_id, now)
        access.check_can_edit(actor, article)
        if article.status == ArticleStatus.RETIRED:
            raise IllegalTransition("edit", article.status, allowed_actions(article, actor))
        if version is not None and version != article.version:
            raise Conflict(f"article changed since version {version} (now {article.version}); reload it")
        if not access.is_editor(actor) and "kind" in values and values["kind"] != ArticleKind.DUTY:
            raise InvalidInput("kind", "duty_only", "department users may only write duty articles")
        if not access.is_editor(actor) and "owner_department" in values and getattr(values["owner_department"], "pk", None) != actor.department_id:
            raise InvalidInput("owner_department", "own_department", "department users may only write for their own department")
        before = audit.snapshot(article, ARTICLE_TRACKED)
        for name, value in values.items():
            setattr(article, name, value)
        _check_dates(article)
        changes = audit.diff(before, audit.snapshot(article, ARTICLE_TRACKED))
        if not changes:
            return article
        article.version += 1
        article.updated_by, article.updated_at = actor, now
        if any(c["field"] == "expires_at" for c in changes):
            article.reminded_at = None
        index_article(article)
        article.save()
        _version(article, actor, changes, now, comment)
        audit.record(actor, "article.update", article, changes=changes, at=now)
    return article


def do_transition(actor: User, article_id: int, action: str, *, comment: str = "", now: dt.datetime | None = None) -> Article:
    now = now or timezone.now()
    if action not in TRANSITIONS:
        raise InvalidInput("action", "choice", f"action must be one of {sorted(TRANSITIONS)}")
    with transaction.atomic():
        article = _locked(actor, article_id, now)
        access.require(actor, access.EDITOR_ROLES, f"{action} knowledge articles")
        sources, target = TRANSITIONS[action]
        if article.status not in sources:
            raise IllegalTransition(action, article.status, allowed_actions(article, actor))
        if action == "send_back" and not comment.strip():
            raise InvalidInput("comment", "required", "a reason is required to send an article back")
        if action == "publish" and article.expires_at and article.expires_at <= now:
            raise InvalidInput("expires_at", "in_future", "an expired article cannot be published; change expires_at first")
        before = {"status": article.status}
        article.status = target
        if action == "publish":
            article.published_at = now
        article.version += 1
        article.updated_by, article.updated_at = actor, now
        article.save()
        changes = audit.diff(before, {"status": target})
        _version(article, actor, changes, now, comment or action)
        audit.record(actor, f"article.{action}", article, changes=changes, at=now)
    return article


MAX_ATTACHMENT = 20 * 1024 * 1024


def do_attach(actor: User, article_id: int, name: str, content_type: str, data: bytes, *, now: dt.datetime | None = None) -> ArticleAttachment:
    from hotline.cases.actions import ALLOWED_ATTACHMENT_TYPES

    now = now or timezone.now()
    if content_type not in ALLOWED_ATTACHMENT_TYPES:
        raise InvalidInput("file", "content_type", f"files of type {content_type} are not accepted")
    if not data:
        raise InvalidInput("file", "required", "the file is empty")
    if len(data) > MAX_ATTACHMENT:
        raise InvalidInput("file", "max_size", f"files must be at most {MAX_ATTACHMENT // (1024 * 1024)} MB")
    safe_name = re.sub(r"[^\w.\-\u4e00-\u9fff]+", "_", name or "file")[:120] or "file"
    with transaction.atomic():
        article = _locked(actor, article_id, now)
        access.check_can_edit(actor, article)
        attachment = ArticleAttachment(article=article, original_name=name[:255], content_type=content_type, size=len(data),
                                       sha256=hashlib.sha256(data).hexdigest(), uploaded_by=actor, uploaded_at=now)
        attachment.file.save(safe_name, ContentFile(data), save=False)
        try:
            attachment.save()
            audit.record(actor, "article.attach", article, changes=[{"field": "attachment", "old": None, "new": name}], at=now)
        except Exception:
            attachment.file.delete(save=False)
            raise
    return attachment


# --- usage --------------------------------------------------------------------------------


def do_record_usage(actor: User, article_id: int, *, ticket_ref: int | str | None = None, kind: str = UsageKind.ANSWER,
                    query: str = "", now: dt.datetime | None = None) -> ArticleUsage:
    """"Use this answer": which article answered which ticket."""
    now = now or timezone.now()
    if kind not in UsageKind.values:
        raise InvalidInput("kind", "choice", f"kind must be one of {UsageKind.values}")
    access.require(actor, access.DESK_ROLES | access.EDITOR_ROLES, "record knowledge usage")
    with transaction.atomic():
        article = access.get_visible_article(actor, article_id, now)
        ticket = case_access.get_visible_ticket(actor, ticket_ref) if ticket_ref not in (None, "") else None
        usage = ArticleUsage.objects.create(article=article, ticket=ticket, user=actor, kind=kind, at=now, query=(query or "")[:200])
        if kind == UsageKind.ANSWER:
            Article.objects.filter(pk=article.pk).update(use_count=F("use_count") + 1)
        audit.record(actor, "article.use", article,
                     changes=[{"field": "usage", "old": None, "new": {"kind": kind, "ticket": ticket.number if ticket else None}}], at=now)
    return usage


# --- categories, vocabulary, routing ---------------------------------------------------------


def do_create_category(actor: User, name: str, parent_id: int | None = None, sort: int = 0) -> ArticleCategory:
    access.require(actor, access.EDITOR_ROLES, "edit knowledge categories")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("name", "required" if not name else "max_length", "name is required (≤100 characters)")
    with transaction.atomic():
        parent = None
        if parent_id is not None:
            parent = ArticleCategory.objects.filter(pk=parent_id).first()
            if parent is None:
                raise InvalidInput("parent", "exists", f"no category {parent_id}")
        category = ArticleCategory.objects.create(name=name, parent=parent, sort=sort)
        category.compute_path()
        category.save(update_fields=["path"])
        audit.record(actor, "knowledge_category.create", category, changes=[{"field": "name", "old": None, "new": name}])
    return category


def check_word(word: str) -> str:
    word = (word or "").strip()
    if not word:
        raise InvalidInput("word", "required", "word is required")
    if len(word) > 64 or not re.fullmatch(r"[\w\u4e00-\u9fff]+", word):
        raise InvalidInput("word", "format", "a word is 1-64 letters, digits or Chinese characters, without spaces")
    return word


def do_add_word(actor: User, word: str, *, freq: int = 2000, tag: str = "nz", now: dt.datetime | None = None) -> DictionaryWord:
    access.require(actor, access.ADMIN_ROLES, "extend the search dictionary")
    word = check_word(word)
    if not 1 <= freq <= 10_000_000:
        raise InvalidInput("freq", "range", "freq must be 1-10,000,000")
    if not re.fullmatch(r"[a-z]{0,8}", tag or ""):
        raise InvalidInput("tag", "format", "tag is a jieba part-of-speech tag such as ns, nt, nz")
    try:
        with transaction.atomic():
            entry = DictionaryWord.objects.create(word=word, freq=freq, tag=tag, created_at=now or timezone.now())
            audit.record(actor, "knowledge_word.create", entry, changes=[{"field": "word", "old": None, "new": word}])
            tasks.enqueue_reindex([word])
    except IntegrityError:
        raise InvalidInput("word", "unique", f"{word} is already in the dictionary") from None
    vocabulary.invalidate()
    return entry


def do_delete_word(actor: User, word_id: int) -> None:
    access.require(actor, access.ADMIN_ROLES, "edit the search dictionary")
    with transaction.atomic():
        entry = DictionaryWord.objects.filter(pk=word_id).first()
        if entry is None:
            raise NotFound("word not found")
        audit.record(actor, "knowledge_word.delete", entry, changes=[{"field": "word", "old": entry.word, "new": None}])
        tasks.enqueue_reindex([entry.word])
        entry.delete()
    vocabulary.invalidate()


def do_save_synonyms(actor: User, words: list[str], *, group_id: int | None = None, now: dt.datetime | None = None) -> SynonymGroup:
    access.require(actor, access.ADMIN_ROLES, "edit synonyms")
    if not isinstance(words, list):
        raise InvalidInput("words", "type", "words must be a list")
    cleaned = list(dict.fromkeys(check_word(w) for w in words))
    if len(cleaned) < 2:
        raise InvalidInput("words", "min_items", "a synonym group needs at least two different words")
    now = now or timezone.now()
    with transaction.atomic():
        if group_id is None:
            group = SynonymGroup.objects.create(words=cleaned, updated_at=now)
            old = None
        else:
            group = SynonymGroup.objects.select_for_update().filter(pk=group_id).first()
            if group is None:
                raise NotFound("synonym group not found")
            old, group.words, group.updated_at = group.words, cleaned, now
            group.save()
        audit.record(actor, "knowledge_synonyms.save", group, changes=[{"field": "words", "old": old, "new": cleaned}])
        tasks.enqueue_reindex([*(old or []), *cleaned])
    vocabulary.invalidate()
    return group


def do_delete_synonyms(actor: User, group_id: int) -> None:
    access.require(actor, access.ADMIN_ROLES, "edit synonyms")
    with transaction.atomic():
        group = SynonymGroup.objects.filter(pk=group_id).first()
        if group is None:
            raise NotFound("synonym group not found")
        audit.record(actor, "knowledge_synonyms.delete", group, changes=[{"field": "words", "old": group.words, "new": None}])
        tasks.enqueue_reindex(list(group.words))
        group.delete()
    vocabulary.invalidate()


def do_save_routing_rule(actor: User, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> RoutingRule:
    """Create or replace the rule for (category, district)."""
    access.require(actor, access.ADMIN_ROLES, "edit routing rules")
    errors: list[dict[str, str]] = []
    category = _fk(Category, data.get("category"), "category", errors)
    if category is None and not errors:
        errors.append({"field": "category", "rule": "required", "message": "category is required"})
    district = _fk(District, data.get("district"), "district", errors)
    department = _fk(Department, data.get("department"), "department", errors)
    if department is None and not any(e["field"] == "department" for e in errors):
        errors.append({"field": "department", "rule": "required", "message": "department is required"})
    if department is not None and not department.can_handle:
        errors.append({"field": "department", "rule": "can_handle", "message": "this department does not handle tickets"})
    if errors:
        raise InvalidInput.many(errors)
    with transaction.atomic():
        rule = RoutingRule.objects.select_for_update().filter(category=category, district=district).first()
        old = {"department": rule.department_id, "active": rule.active} if rule else None
        if rule is None:
            rule = RoutingRule(category=category, district=district, created_at=now or timezone.now())
        rule.department = department
        rule.active = bool(data.get("active", True))
        rule.note = str(data.get("note") or "")[:200]
        rule.save()
        audit.record(actor, "routing_rule.save", rule,
                     changes=[{"field": "rule", "old": old, "new": {"department": department.pk, "active": rule.active}}])
    dispatch.rules.invalidate()
    return rule


def do_delete_routing_rule(actor: User, rule_id: int) -> None:
    access.require(actor, access.ADMIN_ROLES, "edit routing rules")
    with transaction.atomic():
        rule = RoutingRule.objects.filter(pk=rule_id).first()
        if rule is None:
            raise NotFound("routing rule not found")
        audit.record(actor, "routing_rule.delete", rule, changes=[{"field": "department", "old": rule.department_id, "new": None}])
        rule.delete()
    dispatch.rules.invalidate()


# --- reminders -------------------------------------------------------------------------------


def do_review_reminders(now: dt.datetime | None = None) -> list[int]:
    """Mark published articles whose expiry is within their reminder period (once per
    expiry date) and return their ids; the reminder list is GET /knowledge/articles/review-due.
    The article's last editor (or its author) also gets a personal reminder (日程提醒,
    ``web.models.Reminder``), which pops up on their desk / My work page at once."""
    from hotline.web.models import Reminder, ReminderKind  # the staff's reminder list lives in web

    now = now or timezone.now()
    due = []
    with transaction.atomic():
        for article in Article.objects.select_for_update().filter(
            status=ArticleStatus.PUBLISHED, expires_at__isnull=False, reminded_at__isnull=True, expires_at__gt=now
        ):
            if article.expires_at - dt.timedelta(days=article.review_remind_days) <= now:
                article.reminded_at = now
                article.save(update_fields=["reminded_at"])
                audit.record(None, "article.review_reminder", article,
                             changes=[{"field": "reminded_at", "old": None, "new": now}], at=now)
                editor = article.updated_by or article.created_by
                if editor is not None and editor.is_active:
                    expires = timezone.localtime(article.expires_at).date().isoformat()
                    reminder = Reminder.objects.create(
                        owner=editor, kind=ReminderKind.OTHER, due_at=now, created_at=now,
                        text=f"知识条目《{article.title[:120]}》将于{expires}到期，请复核或延期（编号{article.pk}）")
                    audit.record(None, "reminder.create", reminder,
                                 changes=[{"field": "text", "old": None, "new": reminder.text}], at=now)
                due.append(article.pk)
    return due


# --- dispatch suggestion log ------------------------------------------------------------------
# DispatchLog rows are derived measurement data (like TicketIndex), not user-visible
# changes: they carry no audit row. The dispatch itself is audited by cases.actions.


def do_log_suggestion(ticket: Any, suggestion: Any, *, now: dt.datetime | None = None) -> DispatchLog | None:
    """Remember the suggestion shown for a not-yet-dispatched ticket (one open log per
    ticket: the latest suggestion before dispatch counts)."""
    if not suggestion.departments or ticket.lead_department_id:
        return None
    now = now or timezone.now()
    values = {"at": now, "model_version": suggestion.model_version, "source": suggestion.source,
              "suggested_departments": [r.id for r in suggestion.departments],
              "suggested_categories": [r.id for r in suggestion.categories]}
    with transaction.atomic():
        log = DispatchLog.objects.select_for_update().filter(ticket_id=ticket.pk, resolved_at__isnull=True).first()
        if log is None:
            return DispatchLog.objects.create(ticket_id=ticket.pk, **values)
        for name, value in values.items():
            setattr(log, name, value)
        log.save()
    return log


def do_resolve_dispatch_logs(*, ticket_ids: list[int] | None = None, now: dt.datetime | None = None, batch: int = 1000) -> int:
    """Compare each open suggestion with the lead department the ticket was finally
    dispatched to (the hook after dispatch; also run periodically). Returns the
    number of logs resolved."""
    from hotline.cases.models import Ticket

    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            qs = DispatchLog.objects.select_for_update().filter(resolved_at__isnull=True)
            if ticket_ids is not None:
                qs = qs.filter(ticket_id__in=ticket_ids)
            qs = qs.filter(ticket_id__in=Ticket.objects.filter(lead_department__isnull=False, dispatched_at__isnull=False).values("pk"))
            logs = list(qs.order_by("id")[:batch])
            if not logs:
                return done
            leads = dict(Ticket.objects.filter(pk__in=[g.ticket_id for g in logs]).values_list("pk", "lead_department_id"))
            for log in logs:
                final = leads.get(log.ticket_id)
                ranked = list(log.suggested_departments or [])
                log.final_department_id = final
                log.matched_top1 = bool(ranked) and ranked[0] == final
                log.matched_top3 = final in ranked[:3]
                log.resolved_at = now
            DispatchLog.objects.bulk_update(logs, ["final_department", "matched_top1", "matched_top3", "resolved_at"])
            done += len(logs)
        if len(logs) < batch:
            return done


def do_dispatch_outcome(actor: User, ticket_ref: int | str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The hook the desk calls right after dispatching: resolve the ticket's open
    suggestion log now rather than at the next periodic run."""
    access.require(actor, access.DESK_ROLES | access.EDITOR_ROLES, "record dispatch outcomes")
    ticket = case_access.get_visible_ticket(actor, ticket_ref)
    if not ticket.lead_department_id:
        raise InvalidInput("ticket", "dispatched", "the ticket has no lead department yet")
    do_resolve_dispatch_logs(ticket_ids=[ticket.pk], now=now)
    log = DispatchLog.objects.filter(ticket_id=ticket.pk).order_by("-id").first()
    if log is None:
        return {"ticket": ticket.number, "logged": False}
    return {"ticket": ticket.number, "logged": True, "source": log.source, "suggested_departments": log.suggested_departments,
            "final_department": log.final_department_id, "matched_top1": log.matched_top1, "matched_top3": log.matched_top3}
