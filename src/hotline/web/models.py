"""Personal reminders (日程提醒): "call this citizen back at 15:00", "follow up on
ticket N on Friday". Each belongs to one user and pops up on their desk and My work
when due. Written only through ``web.actions``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReminderKind(models.TextChoices):
    CALLBACK = "callback", _("回电")
    FOLLOW_UP = "follow_up", _("跟进")
    OTHER = "other", _("其他")


class Reminder(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(_("类型"), max_length=16, choices=ReminderKind.choices, default=ReminderKind.CALLBACK)
    due_at = models.DateTimeField(_("提醒时间"))
    text = models.CharField(_("内容"), max_length=200)
    ticket = models.ForeignKey("cases.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["owner", "due_at"], condition=Q(done_at__isnull=True), name="reminder_open_due")]

    def __str__(self) -> str:
        return self.text


class SavedSearch(models.Model):
    """A named set of Search filters of one user (the query string of /search/)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(_("名称"), max_length=64)
    query = models.CharField(max_length=2000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_search_unique_name")]

    def __str__(self) -> str:
        return self.name
