"""Users, roles and API tokens.

Roles are integers with gaps so new ones fit between. What each role may do is
decided in one place per app (``access.py``), never here.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.IntegerChoices):
    CALL_TAKER = 10, _("话务员")
    TEAM_LEADER = 20, _("班长")
    DISPATCHER = 30, _("派单员")
    DEPT_HANDLER = 40, _("承办人")
    DEPT_MANAGER = 50, _("承办单位负责人")
    SUPERVISOR = 60, _("督办员")
    QUALITY_INSPECTOR = 70, _("质检员")
    STATISTICIAN = 80, _("统计员")
    ADMIN = 90, _("系统管理员")
    AUDITOR = 100, _("审计员")


#: Roles that belong to a handling department and see only its tickets.
DEPARTMENT_ROLES = frozenset({Role.DEPT_HANDLER, Role.DEPT_MANAGER})


class User(AbstractUser):
    role = models.IntegerField(_("角色"), choices=Role.choices)
    department = models.ForeignKey(
        "directory.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    #: Extension number for the telephony side (agents' phones register with it).
    extension = models.CharField(_("分机号"), max_length=16, null=True, blank=True, unique=True)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    REQUIRED_FIELDS = ["role"]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_department_user(self) -> bool:
        return self.role in DEPARTMENT_ROLES


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
