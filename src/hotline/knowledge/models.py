"""Knowledge base (知识库), search vocabulary, the similar-ticket index, dispatch
routing rules and suggestion logs.

Only ``knowledge.actions`` writes these rows (the ticket index is maintained by
``knowledge.similar``; it is derived data, rebuilt from tickets at any time).
Tickets themselves belong to ``cases`` and are never written here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ArticleKind(models.TextChoices):
    POLICY = "policy", _("政策法规")
    GUIDE = "guide", _("办事指南")
    DUTY = "duty", _("部门职责")
    FAQ = "faq", _("常见问题")
    NEWS = "news", _("城市资讯与公告")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    REVIEWED = "reviewed", _("已审核")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已下线")


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("内部")
    PUBLIC = "public", _("公开")


class ArticleCategory(models.Model):
    """A node of the knowledge category tree; ``path`` is materialised like
    departments' ("000001.000007.") so a subtree is one prefix match."""

    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    sort = models.IntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def compute_path(self) -> None:
        prefix = self.parent.path if self.parent_id and self.parent else ""
        self.path = f"{prefix}{self.pk:06d}."


class Article(models.Model):
    kind = models.CharField(_("类型"), max_length=16, choices=ArticleKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    #: Sanitised HTML (knowledge.actions.sanitize_html).
    body = models.TextField(_("正文"), blank=True)
    #: The standard answer (标准答案) a call-taker copies into the reply.
    answer = models.TextField(_("标准答案"), blank=True)
    keywords = models.CharField(_("关键词"), max_length=500, blank=True)
    category = models.ForeignKey(ArticleCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="articles")
    owner_department = models.ForeignKey(
        "directory.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: For duty articles: the department's transfer phone (转接电话).
    transfer_phone = models.CharField(_("转接电话"), max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    visibility = models.CharField(_("可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL)
    effective_at = models.DateTimeField(_("生效时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("失效时间"), null=True, blank=True)
    review_remind_days = models.PositiveSmallIntegerField(_("到期前提醒天数"), default=30)
    reminded_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveIntegerField(_("引用次数"), default=0)
    # jieba-segmented, space-joined text: what both full-text engines index
    # (SQLite FTS5 table knowledge_article_fts; PostgreSQL generated tsvector column).
    search_title = models.TextField(blank=True, editable=False)
    search_body = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["status", "visibility"]),
            models.Index(fields=["expires_at"], condition=Q(status="published"), name="article_published_expiry"),
            models.Index(fields=["category", "status"]),
        ]

    def __str__(self) -> str:
        return self.title


#: Fields whose changes make a new version and an audit row.
ARTICLE_TRACKED = [
    "kind", "title", "body", "answer", "keywords", "category", "owner_department", "transfer_phone", "status",
    "visibility", "effective_at", "expires_at", "review_remind_days",
]


class ArticleVersion(models.Model):
    """One saved state of an article: who changed what, when. Append-only."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    answer = models.TextField(blank=True)
    status = models.CharField(max_length=16)
    changes = models.JSONField(default=list)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_by_name = models.CharField(max_length=150)
    changed_at = models.DateTimeField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["article", "-version", "-id"]
        indexes = [models.Index(fields=["article", "version"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("article versions are append-only")
        super().save(*args, **kwargs)


class ArticleAttachment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="knowledge/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()


class UsageKind(models.TextChoices):
    ANSWER = "answer", _("引用标准答案")
    VIEW = "view", _("查看")
    TRANSFER = "transfer", _("转接")


class ArticleUsage(models.Model):
    """Which article answered which ticket: the center's view of what works."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="usages")
    ticket = models.ForeignKey("cases.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=UsageKind.choices, default=UsageKind.ANSWER)
    at = models.DateTimeField()
    query = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["article", "at"]), models.Index(fields=["at"])]


class DictionaryWord(models.Model):
    """A word for jieba's user dictionary (place names, departments, policy terms)
    that administrators add on top of the packaged file ``data/userdict.txt``."""

    word = models.CharField(_("词语"), max_length=64, unique=True)
    freq = models.PositiveIntegerField(_("词频"), default=2000)
    tag = models.CharField(_("词性"), max_length=8, blank=True, default="nz")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["word"]


class SynonymGroup(models.Model):
    """Words that mean the same for search: 医保 = 医疗保险 = 基本医疗保险."""

    words = models.JSONField(_("同义词"))
    updated_at = models.DateTimeField()


class RoutingRule(models.Model):
    """An administrator's explicit routing: category (+ district) → department.
    Takes precedence over the learned suggestion. A rule without a district
    applies to every district; the one with a district wins."""

    category = models.ForeignKey("directory.Category", on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey("directory.District", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("directory.Department", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category", "district"], name="routing_rule_unique_pair"),
            models.UniqueConstraint(fields=["category"], condition=Q(district__isnull=True), name="routing_rule_unique_any"),
        ]


class DispatchLog(models.Model):
    """A suggestion shown for a ticket, and (once dispatched) whether it was followed."""

    ticket = models.ForeignKey("cases.Ticket", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(db_index=True)
    model_version = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=16)  # "rule" or "model"
    suggested_departments = models.JSONField(default=list)  # ranked department ids
    suggested_categories = models.JSONField(default=list)  # ranked category ids
    final_department = models.ForeignKey("directory.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    matched_top1 = models.BooleanField(null=True)
    matched_top3 = models.BooleanField(null=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ticket"]), models.Index(fields=["at"], condition=Q(final_department__isnull=True), name="dispatchlog_open")]


class TicketIndex(models.Model):
    """Derived, per-ticket data for duplicate detection and similar-ticket search:
    segmented content (without the address words), a normalised address key, the
    caller's phone and four MinHash LSH band keys. Rebuilt by knowledge.similar."""

    ticket = models.OneToOneField("cases.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    phone = models.CharField(max_length=32)
    address_key = models.CharField(max_length=64, blank=True)
    district_id = models.BigIntegerField(null=True)
    category_id = models.BigIntegerField(null=True)
    tokens = models.TextField(blank=True)
    #: The ticket is finished with an answer (result): offered as a similar past case.
    answered = models.BooleanField(default=False)
    band0 = models.BigIntegerField(default=0)
    band1 = models.BigIntegerField(default=0)
    band2 = models.BigIntegerField(default=0)
    band3 = models.BigIntegerField(default=0)
    indexed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["phone", "created_at"]),
            models.Index(fields=["address_key", "created_at"]),
            models.Index(fields=["band0", "created_at"]),
            models.Index(fields=["band1", "created_at"]),
            models.Index(fields=["band2", "created_at"]),
            models.Index(fields=["band3", "created_at"]),
            models.Index(fields=["created_at"]),
        ]
