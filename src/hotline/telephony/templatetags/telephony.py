"""Template helpers of the telephony pages: ``{% ticket_recordings t %}`` on the ticket
page and ``{% screenpop %}`` on the call-taker desk."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import template
from django.conf import settings
from django.urls import reverse

from hotline.telephony import access
from hotline.telephony.cti import group_for
from hotline.telephony.models import CallRecord

register = template.Library()

CALL_PREFIX = "call:"


def call_ids(recording_ref: str) -> list[str]:
    """The call ids a ticket's ``recording_ref`` names ("call:<call_id>"; other refs are not calls)."""
    ref = (recording_ref or "").strip()
    return [ref[len(CALL_PREFIX):]] if ref.startswith(CALL_PREFIX) and len(ref) > len(CALL_PREFIX) else []


def recordings_for(user: Any, ticket: Any) -> list[dict[str, Any]]:
    """The calls linked to ``ticket`` as ``user`` may see them on the ticket page."""
    ids = call_ids(getattr(ticket, "recording_ref", ""))
    if not ids or not getattr(user, "is_authenticated", False):
        return []
    out = []
    base = reverse("api:recording")
    for call in CallRecord.objects.filter(call_id__in=ids).order_by("offered_at"):
        playable = access.can_play(user, call)
        out.append({
            "call_id": call.call_id,
            "offered_at": call.offered_at,
            "caller": access.caller_for(user, call.caller, ticket),
            "duration": int(round(call.duration)),
            "playable": playable,
            "src": f"{base}?call_id={quote(call.call_id, safe='')}" if playable else "",
        })
    return out


@register.inclusion_tag("telephony/_ticket_recordings.html", takes_context=True)
def ticket_recordings(context: Any, ticket: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"recordings": recordings_for(user, ticket) if user is not None else [], "ticket": ticket}


@register.inclusion_tag("telephony/_screenpop.html", takes_context=True)
def screenpop(context: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    enabled = bool(user is not None and getattr(user, "is_authenticated", False) and group_for(user.extension or ""))
    return {"enabled": enabled, "extension": getattr(user, "extension", "") if enabled else "", "pbx_enabled": settings.HOTLINE_PBX_ENABLED}


@register.filter
def seconds(value: Any) -> str:
    """125 → "2:05"."""
    try:
        total = int(value)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
