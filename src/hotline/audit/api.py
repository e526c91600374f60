"""Searching the audit log (auditors only). Read-only: there is no write endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from hotline.accounts.models import Role, User
from hotline.audit.models import AuditEntry
from hotline.lib.errors import Forbidden

router = Router(tags=["audit"])


class AuditOut(Schema):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor_name: str
    ip: str | None
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: list[dict[str, Any]]


class AuditFilter(Schema):
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    ip: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    q: str | None = None
    page: int = 1
    page_size: int = 50


class AuditPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[AuditOut]


def require_auditor(user: User) -> None:
    if user.role != Role.AUDITOR:
        raise Forbidden("only auditors may read the audit log")


@router.get("", response=AuditPage, summary="Search the audit log")
def search_audit(request: HttpRequest, filters: Query[AuditFilter]) -> dict[str, Any]:
    require_auditor(request.user)  # type: ignore[arg-type]
    qs = AuditEntry.objects.all()
    if filters.actor:
        qs = qs.filter(actor_name=filters.actor)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.ip:
        qs = qs.filter(ip=filters.ip)
    if filters.since:
        qs = qs.filter(at__gte=filters.since)
    if filters.until:
        qs = qs.filter(at__lt=filters.until)
    if filters.q:
        qs = qs.filter(object_repr__icontains=filters.q)
    size = max(1, min(filters.page_size, 500))
    page = max(1, filters.page)
    return {"count": qs.count(), "page": page, "page_size": size, "items": list(qs[(page - 1) * size : page * size])}
