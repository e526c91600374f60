"""Live updates: "a ticket changed" pushed to the browsers that may see it.

Every change to a ticket appends a ``TicketEvent`` (``cases.lifecycle``); when one
is saved, and only once its transaction commits, a small message goes to the
channel layer groups of the people who may see the ticket:

- ``tickets.center`` — every center role that reads all tickets;
- ``tickets.dept.<id>`` — for the lead and each assisting department and all their
  ancestors (a department user sees its whole subtree).

The message carries ids and states only (no personal data); the page fetches
what it shows through the normal, access-checked views. Batched jobs that
``bulk_create`` events (automatic urging) send nothing: their changes show at the
next refresh. With the in-memory channel layer only changes made in the same web
process are pushed; set REDIS_URL when several processes run.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from hotline.accounts.models import DEPARTMENT_ROLES, User
from hotline.cases import access

log = logging.getLogger(__name__)
CENTER_GROUP = "tickets.center"


def dept_group(department_id: int) -> str:
    return f"tickets.dept.{department_id}"


def groups_for_user(user: User) -> list[str]:
    if not user.is_active:
        return []
    if user.role in access.READ_ALL_ROLES:
        return [CENTER_GROUP]
    if user.role in DEPARTMENT_ROLES and user.department_id:
        return [dept_group(user.department_id)]
    return []


def _ids_on_path(path: str) -> set[int]:
    return {int(part) for part in path.split(".") if part}


def groups_for_ticket(ticket_id: int) -> list[str]:
    from hotline.cases.models import Ticket, TicketAssist

    row = Ticket.objects.filter(pk=ticket_id).values_list("lead_department__path", flat=True).first()
    ids: set[int] = set()
    if row:
        ids |= _ids_on_path(row)
    for path in TicketAssist.objects.filter(ticket_id=ticket_id).values_list("department__path", flat=True):
        ids |= _ids_on_path(path or "")
    return [CENTER_GROUP] + [dept_group(i) for i in sorted(ids)]


def publish(ticket_id: int, kind: str, status: str) -> None:
    layer = get_channel_layer()
    if layer is None or (isinstance(layer, InMemoryChannelLayer) and not layer.groups):
        return  # nobody listens in this process (CLI, worker, tests): skip the queries
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # called from async code: async_to_sync cannot run here
        log.debug("live update for ticket %s skipped: called inside an event loop", ticket_id)
        return
    message = {"type": "ticket.changed", "ticket": ticket_id, "kind": kind, "status": status}
    try:
        for group in groups_for_ticket(ticket_id):
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a live update is a courtesy: never fail the request for it
        log.warning("live update for ticket %s not sent", ticket_id, exc_info=True)


def on_event_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    ticket_id, kind, status = instance.ticket_id, instance.kind, instance.to_status
    transaction.on_commit(lambda: publish(ticket_id, kind, status))
