"""Telephony rows of the case system.

- ``SipCredential``: an agent's SIP digest credential. Only HA1 values for the
  realm are stored (MD5 and SHA-256, RFC 8760), never the password. The digest
  username is the user's extension *at the time the password was set*: when the
  extension or the realm changes, the credential stops working until a new
  password is set (HA1 covers username and realm).
- ``Trunk`` and ``DidRoute``: carrier trunks and inbound number → extension routing.
  A trunk's password is never stored: ``password_env`` names the environment
  variable of the PBX process that holds it (default ``HOTLINE_TRUNK_<NAME>_PASSWORD``).
- ``CallRecord``: one call detail record (CDR) per call, written once by the PBX.

Writes go through ``telephony.actions`` (administrators) and
``telephony.store.DjangoDirectory`` (the PBX, CDRs only).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def default_password_env(name: str) -> str:
    """``HOTLINE_TRUNK_<NAME>_PASSWORD`` with the name upper-cased, other characters as ``_``."""
    return "HOTLINE_TRUNK_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_PASSWORD"


class SipCredential(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sip_credential")
    #: The digest username the HA1 values were computed for (the extension then).
    username = models.CharField(_("SIP用户名"), max_length=16)
    realm = models.CharField(_("认证域"), max_length=128)
    ha1_md5 = models.CharField(max_length=32)
    ha1_sha256 = models.CharField(max_length=64)
    enabled = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("SIP账号")

    def __str__(self) -> str:
        return f"{self.username}@{self.realm}"


class Transport(models.TextChoices):
    UDP = "udp", "UDP"
    TCP = "tcp", "TCP"


class Trunk(models.Model):
    name = models.CharField(_("名称"), max_length=32, unique=True)
    host = models.CharField(_("主机"), max_length=253)
    port = models.PositiveIntegerField(_("端口"), default=5060)
    transport = models.CharField(_("传输协议"), max_length=3, choices=Transport.choices, default=Transport.UDP)
    username = models.CharField(_("认证用户名"), max_length=64, blank=True)
    #: Name of the environment variable holding the trunk password ("" = no password).
    password_env = models.CharField(_("密码环境变量"), max_length=64, blank=True)
    register = models.BooleanField(_("注册到运营商"), default=False)
    expires = models.PositiveIntegerField(_("注册有效期(秒)"), default=3600)
    #: Addresses or CIDR networks allowed to send calls from this trunk.
    allowed_sources = models.JSONField(_("允许的来源地址"), default=list, blank=True)
    outbound_prefix = models.CharField(_("呼出前缀"), max_length=8, blank=True)
    caller_id = models.CharField(_("呼出主叫号码"), max_length=32, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("中继")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DidRoute(models.Model):
    trunk = models.ForeignKey(Trunk, on_delete=models.CASCADE, related_name="did_routes")
    did = models.CharField(_("号码"), max_length=32)
    extension = models.CharField(_("分机号"), max_length=16)

    class Meta:
        verbose_name = _("呼入号码路由")
        ordering = ["trunk_id", "did"]
        constraints = [models.UniqueConstraint(fields=["trunk", "did"], name="telephony_did_unique_per_trunk")]

    def __str__(self) -> str:
        return f"{self.did} → {self.extension}"


class Direction(models.TextChoices):
    INBOUND = "inbound", _("呼入")
    OUTBOUND = "outbound", _("呼出")
    INTERNAL = "internal", _("内部")


class HangupSide(models.TextChoices):
    CALLER = "caller", _("主叫")
    CALLEE = "callee", _("被叫")
    SYSTEM = "system", _("系统")


class CallRecord(models.Model):
    """A call detail record (话单). Written once per call by the PBX (idempotent on ``call_id``)."""

    call_id = models.CharField(max_length=255, unique=True)
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices)
    caller = models.CharField(_("主叫"), max_length=64)
    callee = models.CharField(_("被叫"), max_length=64)
    trunk = models.CharField(_("中继"), max_length=32, blank=True)
    agent_extension = models.CharField(_("座席分机"), max_length=16, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    offered_at = models.DateTimeField(_("呼入时间"))
    answered_at = models.DateTimeField(_("应答时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"))
    duration = models.FloatField(_("通话时长(秒)"), default=0.0)
    hangup_side = models.CharField(_("挂机方"), max_length=6, choices=HangupSide.choices)
    hangup_cause = models.CharField(_("挂机原因"), max_length=64, blank=True)
    #: WAV path relative to MEDIA_ROOT ("" = not recorded).
    recording_path = models.CharField(_("录音文件"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("通话记录")
        ordering = ["-offered_at", "-id"]
        indexes = [
            models.Index(fields=["-offered_at", "-id"], name="telephony_cdr_time"),
            models.Index(fields=["agent", "-offered_at"], name="telephony_cdr_agent_time"),
            models.Index(fields=["caller", "-offered_at"], name="telephony_cdr_caller_time"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} → {self.callee} ({self.offered_at:%Y-%m-%d %H:%M})"

    @property
    def ref(self) -> str:
        """What a ticket's ``recording_ref`` holds when it was registered from this call."""
        return f"call:{self.call_id}"
