"""Tickets as JSON for one viewer: personal data masked per access rules, the
colour and working days left computed, the viewer's allowed actions listed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _

from hotline.accounts.models import User
from hotline.cases import access, deadlines, lifecycle
from hotline.cases.models import ExtensionStatus, Status, Ticket, TicketEvent
from hotline.cases.workdays import WorkCalendar


def _entry(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"id": obj.pk, "code": getattr(obj, "code", None), "name": obj.name}


def ticket_summary(t: Ticket, user: User, now: dt.datetime, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    return {
        "id": t.pk,
        "number": t.number,
        "status": t.status,
        "status_label": str(Status(t.status).label),
        "citizen_name": t.citizen_name,
        "contact_phone": access.phone_for(user, t, t.contact_phone),
        "source": _entry(t.source),
        "service_type": _entry(t.service_type),
        "category": _entry(t.category),
        "district": _entry(t.district),
        "address": t.address,
        "summary": t.summary,
        "urgency": t.urgency,
        "lead_department": _entry(t.lead_department),
        "handler": {"id": t.handler.pk, "name": str(t.handler)} if t.handler_id and t.handler else None,
        "created_at": t.created_at,
        "dispatched_at": t.dispatched_at,
        "deadline": t.deadline,
        "colour": deadlines.colour_of(t, now),
        "workdays_left": deadlines.workdays_left(t, now, calendar) if t.status in deadlines.RUNNING_STATES else None,
        "satisfaction": t.satisfaction,
        "urge_count": t.urge_count,
    }


def ticket_detail(t: Ticket, user: User, now: dt.datetime, *, new: bool = False) -> dict[str, Any]:
    """``new``: the ticket was just created, so it has no assisting departments,
    extension requests, supervisions or attachments yet (four queries saved on the
    registration path)."""
    out = ticket_summary(t, user, now)
    pending = None if new else t.extension_requests.filter(status=ExtensionStatus.PENDING).first()
    out.update(
        {
            "query_code": t.query_code if user.role in access.FULL_PHONE_ROLES else None,
            "confidential": t.confidential,
            "id_number": (
                (t.citizen.id_number if access.sees_id_number(user) else access.mask_id_number(t.citizen.id_number))
                if t.citizen_id and t.citizen
                else ""
            ),
            "citizen_tags": list(t.citizen.tags) if t.citizen_id and t.citizen else [],
            "citizen_blacklisted": bool(t.citizen_id and t.citizen and t.citizen.is_blacklisted(now)),
            "longitude": float(t.longitude) if t.longitude is not None else None,
            "latitude": float(t.latitude) if t.latitude is not None else None,
            "content": t.content,
            "leader_instruction": t.leader_instruction,
            "assisting_departments": [
                {"id": a.department.pk, "code": a.department.code, "name": a.department.name, "opinion": a.opinion}
                for a in ([] if new else t.assists.select_related("department"))
            ],
            "registered_at": t.registered_at,
            "signed_at": t.signed_at,
            "replied_at": t.replied_at,
            "closed_at": t.closed_at,
            "sign_deadline": t.sign_deadline,
            "warn_at": t.warn_at,
            "deadline_days": t.deadline_days,
            "result": t.result,
            "recording_ref": t.recording_ref,
            "merged_into": t.merged_into.number if t.merged_into_id and t.merged_into else None,
            "reopen_count": t.reopen_count,
            "version": t.version,
            "open_supervision": False if new else t.supervisions.filter(closed_at__isnull=True).exists(),
            "pending_extension": (
                {"id": pending.pk, "requested_date": pending.requested_date, "reason": pending.reason} if pending else None
            ),
            "attachments": [
                {"id": a.pk, "name": a.original_name, "content_type": a.content_type, "size": a.size, "uploaded_at": a.uploaded_at}
                for a in ([] if new else t.attachments.all())
            ],
            "allowed_actions": lifecycle.allowed_actions(t, user),
        }
    )
    return out


def event_out(e: TicketEvent) -> dict[str, Any]:
    label = lifecycle.TRANSITIONS[e.kind].label if e.kind in lifecycle.TRANSITIONS else EVENT_LABELS.get(e.kind, e.kind)
    return {
        "id": e.pk,
        "at": e.at,
        "kind": e.kind,
        "label": str(label),
        "actor_name": e.actor_name,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "comment": e.comment,
        "data": e.data,
    }


EVENT_LABELS = {
    "create": _("创建"),
    "auto_urge_sign": _("签收超时自动催办"),
    "auto_urge_yellow": _("临期自动催办"),
    "auto_urge_red": _("超期自动催办"),
    "deadline_changed": _("时限重算"),
    "duplicate_merged": _("重复工单并入"),
}
