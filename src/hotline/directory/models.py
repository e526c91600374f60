"""The data dictionary: departments, categories, service types, sources, districts,
deadline rules, the holiday calendar's overrides, system parameters and citizens.

All of it is data edited by administrators (directory.actions), never code.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DictionaryEntry(models.Model):
    """Common shape of a flat dictionary entry: a stable code and a display name."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)
    sort = models.IntegerField(_("排序"), default=0)

    class Meta:
        abstract = True
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class DepartmentKind(models.TextChoices):
    CITY = "city", _("市级")
    DISTRICT = "district", _("区县")
    STREET = "street", _("街道/乡镇")
    COMMUNITY = "community", _("社区/村")
    BUREAU = "bureau", _("职能部门")
    ENTERPRISE = "enterprise", _("公共服务企业")
    CENTER = "center", _("热线中心")


class Department(models.Model):
    """A node of the department tree. ``path`` is a materialised path
    ("000001.000007.") so that a subtree is one indexed ``LIKE 'prefix%'`` in SQL."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=DepartmentKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    duty = models.TextField(_("职责"), blank=True)
    phone = models.CharField(_("联系电话"), max_length=64, blank=True)
    can_handle = models.BooleanField(_("可承办"), default=True)
    active = models.BooleanField(_("启用"), default=True)
    sort = models.IntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def compute_path(self) -> None:
        """Set ``path`` and ``depth`` from the parent; requires ``pk``."""
        prefix = self.parent.path if self.parent_id and self.parent else ""
        self.path = f"{prefix}{self.pk:06d}."
        self.depth = prefix.count(".")


class Category(models.Model):
    """Two-level appeal category tree (大类 → 小类)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    active = models.BooleanField(_("启用"), default=True)
    sort = models.IntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name if not self.parent_id else f"{self.parent}/{self.name}"


class ServiceType(DictionaryEntry):
    """诉求类型: consultation, complaint, report, suggestion, help, praise, other."""


class Source(DictionaryEntry):
    """受理渠道: phone, web portal, email, SMS, WeChat, letter, ..."""


class District(DictionaryEntry):
    """行政区划 used for addresses and statistics."""

    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")


class DeadlineRule(models.Model):
    """Working days allowed for one (service type, category) pair.

    Either key may be empty; the most specific rule wins:
    (category, type) > (category, any) > (any, type) > (any, any).
    ``sign_days`` is the sign-for (签收) limit after dispatch.
    """

    service_type = models.ForeignKey(ServiceType, null=True, blank=True, on_delete=models.CASCADE)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE)
    handle_days = models.PositiveSmallIntegerField(_("办理时限(工作日)"))
    sign_days = models.PositiveSmallIntegerField(_("签收时限(工作日)"), default=1)

    class Meta:
        # One rule per pair. NULL means "any", and SQLite lacks NULLS NOT DISTINCT, so
        # the pairs with an "any" side get partial unique indexes of their own; the
        # (any, any) rule is kept single by directory.actions.
        constraints = [
            models.UniqueConstraint(fields=["service_type", "category"], name="deadline_rule_unique_pair"),
            models.UniqueConstraint(
                fields=["service_type"], condition=models.Q(category__isnull=True), name="deadline_rule_unique_type"
            ),
            models.UniqueConstraint(
                fields=["category"], condition=models.Q(service_type__isnull=True), name="deadline_rule_unique_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'} / {self.service_type or '*'}: {self.handle_days}"


class HolidayOverride(models.Model):
    """A day whose status the administrator states: a holiday, or a working day
    (调休 on a weekend). Takes precedence over the packaged calendar."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("说明"), max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]


class Parameter(models.Model):
    """A system parameter (threshold, period, ...). Defaults live in
    directory.parameters.DEFAULTS; a row here overrides one."""

    key = models.CharField(max_length=64, unique=True)
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)


class Citizen(models.Model):
    """A person who contacts the hotline. Phone and ID number are personal data:
    serialisers mask them for roles that do not need them (cases.access).

    One citizen per main phone (``citizen_phone_unique``; its index serves the look-up
    by phone). Migration 0004 merged the duplicates older versions could hold."""

    name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("电话"), max_length=32)
    other_phones = models.JSONField(_("其他电话"), default=list, blank=True)
    id_number = models.CharField(_("身份证号"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    blacklisted = models.BooleanField(_("黑名单"), default=False)
    blacklist_until = models.DateTimeField(_("黑名单截止"), null=True, blank=True)
    blacklist_reason = models.CharField(_("黑名单原因"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["phone"], name="citizen_phone_unique")]

    def __str__(self) -> str:
        return self.name or self.phone

    def is_blacklisted(self, now) -> bool:  # type: ignore[no-untyped-def]
        """Permanent when ``blacklist_until`` is empty."""
        return self.blacklisted and (self.blacklist_until is None or self.blacklist_until > now)
