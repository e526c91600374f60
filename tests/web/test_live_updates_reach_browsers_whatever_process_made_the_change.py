"""On the embedded default (in-memory channel layer, no Redis) the ticket event table
is the outbox: each listening web process's relay reads the events appended since
its last look, whoever wrote them — a request in another web process, the worker's
automatic urges (written in bulk, no signals), the CLI — and sends one
``ticket.changed`` per changed ticket to the groups that may see it.

The relay is driven here step by step (``look()``) over a real InMemoryChannelLayer;
tests/web/test_browser_lists_update_live_when_tickets_change.py shows it in Chromium
with the change made outside the server process.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer

from hotline.cases import actions, deadlines
from hotline.cases.models import TicketEvent
from hotline.web import live
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def _drain(layer: InMemoryChannelLayer, channel: str) -> list[dict[str, Any]]:
    got = []
    while True:
        try:
            got.append(async_to_sync(layer.receive)(channel) if layer.channels.get(channel) else None)
        except Exception:
            break
        if got[-1] is None:
            got.pop()
            break
    return got


def _listen(layer: InMemoryChannelLayer, group: str) -> str:
    channel = f"test.{group}!x"
    async_to_sync(layer.group_add)(group, channel)
    return channel


def test_the_relay_announces_changes_made_anywhere_once_per_ticket_and_only_in_scope(people: Any, tree: Any) -> None:
    layer = InMemoryChannelLayer()
    center = _listen(layer, live.CENTER_GROUP)
    donghua = _listen(layer, live.dept_group(tree.donghua.pk))
    west = _listen(layer, live.dept_group(tree.xicheng.pk))
    relay = live.EventRelay(layer)

    before = actions.do_create_ticket(people.call_taker, ticket_input())
    assert relay.look() == []  # the first look only takes its position: no history replayed
    assert relay.watermark == TicketEvent.objects.order_by("-id").values_list("id", flat=True).first()

    # A dispatch (signals fire, but the in-memory layer is left to the relay) and a
    # second change of the same ticket: one message for that ticket, with its newest state.
    t = actions.do_create_ticket(people.call_taker, ticket_input(summary="东华街道路灯不亮"))
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua_community.pk, [])
    actions.do_urge(t.pk, people.dispatcher, comment="请尽快处理")
    for group, message in relay.look():
        async_to_sync(layer.group_send)(group, message)
    to_center = _drain(layer, center)
    assert [(m["ticket"], m["kind"], m["status"]) for m in to_center] == [(t.pk, "urge", "dispatched")]
    assert [m["ticket"] for m in _drain(layer, donghua)] == [t.pk]
    assert _drain(layer, west) == []  # 西城区 may not see it
    assert relay.look() == []  # nothing new: nothing sent twice

    # The worker's automatic urges are written in bulk, without signals: still announced.
    actions.do_dispatch(before.pk, people.call_taker, tree.donghua_community.pk, [])
    for group, message in relay.look():
        async_to_sync(layer.group_send)(group, message)
    _drain(layer, center), _drain(layer, donghua)
    counts = deadlines.run_deadline_job(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=120))
    assert sum(counts.values()) >= 2
    messages = relay.look()
    for group, message in messages:
        async_to_sync(layer.group_send)(group, message)
    announced = {m["ticket"] for m in _drain(layer, donghua)}
    assert announced == {t.pk, before.pk}
    assert {m["ticket"] for m in _drain(layer, center)} == {t.pk, before.pk}
    assert _drain(layer, west) == []


def test_an_event_committed_behind_the_watermark_is_still_announced_once(people: Any, tree: Any) -> None:
    """PostgreSQL hands out ids before commit: a transaction that took a lower id can
    commit after the relay has seen a higher one. The look goes LOOKBACK ids back."""
    layer = InMemoryChannelLayer()
    center = _listen(layer, live.CENTER_GROUP)
    relay = live.EventRelay(layer)
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    relay.look()
    late = TicketEvent.objects.filter(ticket=t).order_by("-id").first()
    assert late is not None
    relay.floor, relay.watermark = late.pk - 1, late.pk + 3  # as if ids up to here were seen, this one not yet
    for group, message in relay.look():
        async_to_sync(layer.group_send)(group, message)
    assert [m["ticket"] for m in _drain(layer, center)] == [t.pk]
    assert relay.look() == []


def test_nobody_listening_costs_nothing_and_a_new_listener_hears_only_what_follows(people: Any) -> None:
    layer = InMemoryChannelLayer()
    relay = live.EventRelay(layer)
    relay.look()
    actions.do_create_ticket(people.call_taker, ticket_input())
    relay.reset()  # what run() does when no group has a member
    assert relay.look() == []
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    assert {m[1]["ticket"] for m in relay.look()} == {t.pk}
