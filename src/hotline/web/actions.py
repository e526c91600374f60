"""Reminders: create and mark done, for oneself only; audited like every write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from hotline.accounts.models import User
from hotline.audit import actions as audit
from hotline.cases import access
from hotline.lib.errors import InvalidInput, NotFound
from hotline.web.models import Reminder, ReminderKind, SavedSearch

FIELDS = ["kind", "due_at", "text", "ticket", "done_at"]
#: How far ahead a reminder may be set.
MAX_AHEAD = dt.timedelta(days=366)


def check_reminder(actor: User, data: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    kind = data.get("kind") or ReminderKind.CALLBACK
    if kind not in ReminderKind.values:
        errors.append({"field": "kind", "rule": "choice", "message": f"kind must be one of {ReminderKind.values}"})
    text = str(data.get("text") or "").strip()
    if not text:
        errors.append({"field": "text", "rule": "required", "message": "text is required"})
    elif len(text) > 200:
        errors.append({"field": "text", "rule": "max_length", "message": "text must be at most 200 characters"})
    due = data.get("due_at")
    if isinstance(due, str):
        try:
            due = dt.datetime.fromisoformat(due.strip()) if due.strip() else None
        except ValueError:
            errors.append({"field": "due_at", "rule": "datetime", "message": "due_at must be a date and time"})
            due = None
    if due is None and not any(e["field"] == "due_at" for e in errors):
        errors.append({"field": "due_at", "rule": "required", "message": "due_at is required"})
    if isinstance(due, dt.datetime):
        if timezone.is_naive(due):
            due = timezone.make_aware(due)
        if due > now + MAX_AHEAD:
            errors.append({"field": "due_at", "rule": "range", "message": "at most a year ahead"})
    ticket = None
    ref = str(data.get("ticket") or "").strip()
    if ref:
        try:
            ticket = access.get_visible_ticket(actor, ref)
        except NotFound:
            errors.append({"field": "ticket", "rule": "exists", "message": f"no ticket {ref} you may see"})
    if errors:
        raise InvalidInput.many(errors)
    return {"kind": kind, "text": text, "due_at": due, "ticket": ticket}


def do_create_reminder(actor: User, data: Mapping[str, Any], *, now: dt.datetime) -> Reminder:
    fields = check_reminder(actor, data, now)
    with transaction.atomic():
        reminder = Reminder.objects.create(owner=actor, created_at=now, **fields)
        audit.record(actor, "reminder.create", reminder, changes=audit.diff({}, audit.snapshot(reminder, FIELDS)), at=now)
    return reminder


def do_finish_reminder(actor: User, reminder_id: int, *, now: dt.datetime) -> Reminder:
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().filter(pk=reminder_id, owner=actor).first()
        if reminder is None:  # someone else's reminder is as good as missing
            raise NotFound("reminder not found")
        if reminder.done_at is None:
            before = audit.snapshot(reminder, FIELDS)
            reminder.done_at = now
            reminder.save(update_fields=["done_at"])
            audit.record(actor, "reminder.done", reminder, changes=audit.diff(before, audit.snapshot(reminder, FIELDS)), at=now)
    return reminder


def due_reminders(user: User, now: dt.datetime) -> list[Reminder]:
    return list(Reminder.objects.filter(owner=user, done_at__isnull=True, due_at__lte=now).select_related("ticket")[:20])


def upcoming_reminders(user: User, now: dt.datetime, *, hours: int = 24) -> list[Reminder]:
    return list(Reminder.objects.filter(owner=user, done_at__isnull=True, due_at__gt=now, due_at__lte=now + dt.timedelta(hours=hours))
                .select_related("ticket")[:20])


# --- saved searches ---------------------------------------------------------------------------------

MAX_SAVED_SEARCHES = 50


def do_save_search(actor: User, name: str, query: str, *, now: dt.datetime) -> SavedSearch:
    """Save (or overwrite, by name) the user's current Search filters."""
    from urllib.parse import parse_qsl, urlencode

    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "required", "name is required")
    if len(name) > 64:
        raise InvalidInput("name", "max_length", "name must be at most 64 characters")
    # Only the filter keys Search knows, re-encoded: nothing else is stored.
    from hotline.web.views import SEARCH_FIELDS

    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=False) if k in SEARCH_FIELDS]
    clean = urlencode(pairs)
    if len(clean) > 2000:
        raise InvalidInput("query", "max_length", "too many filters")
    with transaction.atomic():
        existing = SavedSearch.objects.select_for_update().filter(owner=actor, name=name).first()
        if existing is None and SavedSearch.objects.filter(owner=actor).count() >= MAX_SAVED_SEARCHES:
            raise InvalidInput("name", "max_items", f"at most {MAX_SAVED_SEARCHES} saved searches")
        before = {"query": existing.query} if existing else {}
        if existing is None:
            saved = SavedSearch.objects.create(owner=actor, name=name, query=clean, created_at=now)
        else:
            existing.query = clean
            existing.save(update_fields=["query"])
            saved = existing
        audit.record(actor, "saved_search.save", saved, changes=audit.diff(before, {"query": clean}), at=now)
    return saved


def do_delete_search(actor: User, search_id: int, *, now: dt.datetime) -> None:
    with transaction.atomic():
        saved = SavedSearch.objects.select_for_update().filter(pk=search_id, owner=actor).first()
        if saved is None:
            raise NotFound("saved search not found")
        audit.record(actor, "saved_search.delete", saved, changes=[{"field": "query", "old": saved.query, "new": None}], at=now)
        saved.delete()
