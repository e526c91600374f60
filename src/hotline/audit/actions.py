"""Writing to the audit log. Every ``do_*`` action in every app calls ``record``
inside its own transaction, so a change and its audit row commit together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from hotline.audit.context import current_ip
from hotline.audit.models import AuditEntry
from hotline.lib import rows


_SCALARS = frozenset({str, int, bool, float})


def _plain(value: Any) -> Any:
    """A JSON-safe version of a field value."""
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, models.Model):
        return {"id": value.pk, "repr": str(value)}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields`` (foreign keys as their ids)."""
    out: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        out[name] = getattr(obj, attname)
    return out


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"field": k, "old": _plain(before.get(k)), "new": _plain(after.get(k))}
        for k in after
        if before.get(k) != after.get(k)
    ]


def entry(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    changes: list[dict[str, Any]] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """One audit row, not yet written (``record_all`` writes several in one INSERT)."""
    return rows.build(
        AuditEntry,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=str(getattr(actor, "username", None) or "system"),
        ip=current_ip.get(),
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None else ""),
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        changes=[_plain(c) for c in (changes or [])],
    )


def record(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    changes: list[dict[str, Any]] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one audit row. ``actor`` is a user or None for the system."""
    row = entry(actor, action, obj, changes=changes, object_type=object_type, object_id=object_id, object_repr=object_repr, at=at)
    row.save()
    return row


def record_all(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Append rows built by ``entry`` in one INSERT (the registration path)."""
    rows.insert(entries)
    return entries
