"""Who may read and write knowledge articles, use the assistant and administer the
vocabulary and routing. The one place for it.

- editors (team leader, administrator): write, review, publish, retire any article;
  see every status and validity;
- department users: propose drafts of their own department's duty article (职责)
  and edit them while they are drafts;
- every authenticated active user: published internal and public articles;
- anonymous (citizen portal, IVR): published public articles only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from hotline.accounts.models import DEPARTMENT_ROLES, Role, User
from hotline.cases.access import READ_ALL_ROLES
from hotline.knowledge.models import Article, ArticleKind, ArticleStatus, Visibility
from hotline.knowledge.search import ArticleFilter
from hotline.lib.errors import Forbidden, NotFound

EDITOR_ROLES = frozenset({Role.TEAM_LEADER, Role.ADMIN})
#: Roles of the call-taker desk: the assistant (search-as-you-type, duplicates, suggestions).
DESK_ROLES = frozenset({Role.CALL_TAKER, Role.TEAM_LEADER, Role.DISPATCHER})
#: Roles that read reports (usage, dispatch accuracy, hot topics).
REPORT_ROLES = frozenset({Role.TEAM_LEADER, Role.DISPATCHER, Role.SUPERVISOR, Role.QUALITY_INSPECTOR,
                          Role.STATISTICIAN, Role.ADMIN})
#: Hot topics for the leaders' dashboard: the center's roles that read every ticket.
HOT_TOPIC_ROLES = READ_ALL_ROLES
#: Vocabulary (dictionary words, synonyms) and routing rules.
ADMIN_ROLES = frozenset({Role.ADMIN, Role.TEAM_LEADER})


def _active(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_active", False) and getattr(user, "pk", None))


def is_editor(user: User | None) -> bool:
    return _active(user) and user.role in EDITOR_ROLES  # type: ignore[union-attr]


def article_filter(user: User | None, now: Any, *, validity: str = "current", statuses: list[str] | None = None) -> ArticleFilter:
    """The SQL filter of what ``user`` may find. Non-editors always get current
    published articles: an expired article is never shown to them as current."""
    if not _active(user):
        return ArticleFilter(now=now, visibilities=[Visibility.PUBLIC])
    assert user is not None
    if user.role in EDITOR_ROLES:
        return ArticleFilter(now=now, statuses=statuses or [ArticleStatus.PUBLISHED], validity=validity)
    return ArticleFilter(now=now)


def visible_articles(user: User | None, now: Any, base: QuerySet[Article] | None = None) -> QuerySet[Article]:
    qs = Article.objects.all() if base is None else base
    current = (Q(effective_at__isnull=True) | Q(effective_at__lte=now)) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    published = Q(status=ArticleStatus.PUBLISHED) & current
    if not _active(user):
        return qs.filter(published, visibility=Visibility.PUBLIC)
    assert user is not None
    if user.role in EDITOR_ROLES:
        return qs
    if user.role in DEPARTMENT_ROLES and user.department_id:
        return qs.filter(published | Q(owner_department_id=user.department_id, kind=ArticleKind.DUTY))
    return qs.filter(published)


def get_visible_article(user: User | None, article_id: int, now: Any) -> Article:
    article = visible_articles(user, now, Article.objects.filter(pk=article_id)).first()
    if article is None:
        raise NotFound("article not found")
    return article


def check_can_create(user: User, kind: str, owner_department_id: int | None) -> None:
    if user.role in EDITOR_ROLES:
        return
    if user.role in DEPARTMENT_ROLES and user.department_id:
        if kind != ArticleKind.DUTY:
            raise Forbidden("department users may only propose their department's duty article")
        if owner_department_id != user.department_id:
            raise Forbidden("department users may only propose articles for their own department")
        return
    raise Forbidden(f"role {Role(user.role).label} may not write knowledge articles")


def check_can_edit(user: User, article: Article) -> None:
    if user.role in EDITOR_ROLES:
        return
    if (
        user.role in DEPARTMENT_ROLES
        and user.department_id
        and article.owner_department_id == user.department_id
        and article.kind == ArticleKind.DUTY
        and article.status == ArticleStatus.DRAFT
    ):
        return
    raise Forbidden("only knowledge editors may change this article")


def require(user: User, roles: Any, what: str) -> None:
    if not _active(user) or user.role not in roles:
        raise Forbidden(f"role {Role(user.role).label if _active(user) else '-'} may not {what}")
