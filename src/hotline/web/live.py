"""Live updates: "a ticket changed" pushed to the browsers that may see it.

Every change to a ticket appends a ``TicketEvent`` (``cases.lifecycle``, and the
deadline job's bulk urges). A small message goes to the channel layer groups of the
people who may see the ticket:

- ``tickets.center`` — every center role that reads all tickets;
- ``tickets.dept.<id>`` — for the lead and each assisting department and all their
  ancestors (a department user sees its whole subtree).

The message carries ids and states only (no personal data); the page fetches
what it shows through the normal, access-checked views.

Two ways, one per kind of channel layer:

- **In-memory layer (the embedded default, no Redis)**: the event table is the
  outbox. Each web process that has browsers listening runs one :class:`EventRelay`
  task, which reads the events appended since its last look (every
  ``POLL_SECONDS``), whatever process wrote them — this web process, another one,
  the worker's automatic urges, the CLI, an import — and sends one message per
  changed ticket. Commits can land out of id order on PostgreSQL, so each look goes
  ``LOOKBACK`` ids back and skips the ids already sent.
- **Redis layer** (``REDIS_URL``, several web processes): the process that made the
  change sends on commit (``on_event_saved``); Redis fans it out to every web
  process. Batched jobs that write events in bulk (automatic urging) send nothing
  there: their changes show at the next refresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
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
    return groups_for_tickets([ticket_id]).get(ticket_id, [CENTER_GROUP])


def groups_for_tickets(ticket_ids: Iterable[int]) -> dict[int, list[str]]:
    """The groups of each ticket, in two queries whatever the number of tickets."""
    from hotline.cases.models import Ticket, TicketAssist

    wanted = list(ticket_ids)
    ids: dict[int, set[int]] = {t: set() for t in wanted}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for tid, path in Ticket.objects.filter(pk__in=chunk).values_list("pk", "lead_department__path"):
            ids[tid] |= _ids_on_path(path or "")
        for tid, path in TicketAssist.objects.filter(ticket_id__in=chunk).values_list("ticket_id", "department__path"):
            ids[tid] |= _ids_on_path(path or "")
    return {t: [CENTER_GROUP] + [dept_group(i) for i in sorted(found)] for t, found in ids.items()}


def publish(ticket_id: int, kind: str, status: str) -> None:
    """Send on commit through a shared (Redis) layer; ``on_event_saved`` only calls it
    then — the in-memory layer is served by each listening web process's EventRelay."""
    layer = get_channel_layer()
    if layer is None:
        return
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
    if not created or isinstance(get_channel_layer(), InMemoryChannelLayer):
        return  # in memory: the relay reads the event from the table; no commit hook per event
    ticket_id, kind, status = instance.ticket_id, instance.kind, instance.to_status
    transaction.on_commit(lambda: publish(ticket_id, kind, status))


# -- the relay for the in-memory channel layer ------------------------------------------------
POLL_SECONDS = 1.0
#: how far back (in event ids) each look goes, for commits that land out of id order
LOOKBACK = 500
#: at most this many changed tickets are announced per look; past it, the rest is
#: skipped (every list refreshes anyway on the first message: they are throttled)
MAX_TICKETS_PER_LOOK = 200


class EventRelay:
    """Reads the ticket events appended since the last look and turns them into one
    ``ticket.changed`` message per ticket and group. ``look()`` is synchronous (it
    queries the database); ``run()`` calls it from a thread every ``POLL_SECONDS``
    while anyone listens in this process."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.watermark: int | None = None
        self.floor = 0  # events up to here happened before anyone listened: never announced
        self._sent: set[int] = set()
        self._sent_order: deque[int] = deque()
        self.wake = asyncio.Event()

    def _remember(self, event_id: int) -> None:
        self._sent.add(event_id)
        self._sent_order.append(event_id)
        while len(self._sent_order) > 4 * LOOKBACK:
            self._sent.discard(self._sent_order.popleft())

    def reset(self) -> None:
        """Nobody listens: forget the position, so a later listener hears only what
        happens after it connected."""
        self.watermark = None
        self._sent.clear()
        self._sent_order.clear()

    def look(self) -> list[tuple[str, dict[str, Any]]]:
        from hotline.cases.models import TicketEvent

        if self.watermark is None:
            self.watermark = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            self.floor = self.watermark
            return []
        rows = list(
            TicketEvent.objects.filter(id__gt=max(self.floor, self.watermark - LOOKBACK)).order_by("id")
            .values_list("id", "ticket_id", "kind", "to_status")[: LOOKBACK + 20 * MAX_TICKETS_PER_LOOK]
        )
        latest: dict[int, tuple[str, str]] = {}
        for event_id, ticket_id, kind, status in rows:
            if event_id in self._sent:
                continue
            self._remember(event_id)
            latest.pop(ticket_id, None)
            latest[ticket_id] = (kind, status)  # the ticket's newest event, in arrival order
        if rows:
            self.watermark = max(self.watermark, rows[-1][0])
        if not latest:
            return []
        tickets = list(latest)[-MAX_TICKETS_PER_LOOK:]
        groups = groups_for_tickets(tickets)
        messages = []
        for ticket_id in tickets:
            kind, status = latest[ticket_id]
            message = {"type": "ticket.changed", "ticket": ticket_id, "kind": kind, "status": status}
            messages.extend((group, message) for group in groups[ticket_id])
        return messages

    async def run(self) -> None:
        from channels.db import database_sync_to_async

        look = database_sync_to_async(self.look)
        while True:
            if self.watermark is None:  # idle until a listener connects (ensure_relay wakes us)
                await self.wake.wait()
            else:
                try:
                    await asyncio.wait_for(self.wake.wait(), POLL_SECONDS)
                except asyncio.TimeoutError:
                    pass
            self.wake.clear()
            if not self.layer.groups:
                self.reset()
                continue
            try:
                messages = await look()
                for group, message in messages:
                    await self.layer.group_send(group, message)
            except Exception:  # a live update is a courtesy: the relay keeps going
                log.warning("live updates: reading new ticket events failed", exc_info=True)


_relays: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Task[None], EventRelay]] = {}


def ensure_relay(layer: Any) -> None:
    """Start this process's relay (once per event loop) when the layer is in memory."""
    if not isinstance(layer, InMemoryChannelLayer):
        return
    loop = asyncio.get_running_loop()
    current = _relays.get(id(layer))
    if current is None or current[0] is not loop or current[1].done():
        relay = EventRelay(layer)
        current = (loop, loop.create_task(relay.run(), name="hotline-live-relay"), relay)
        _relays[id(layer)] = current
    if current[2].watermark is None:
        current[2].wake.set()
