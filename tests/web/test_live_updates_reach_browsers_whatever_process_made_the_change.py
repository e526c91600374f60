"""On the embedded default (in-memory channel layer, no Redis) the ticket event table
is the outbox: each listening web process's relay reads the events appended since
its last look, whoever wrote them — a request in another web process, the worker's
automatic urges (written in bulk, no signals), the CLI — and sends one
``ticket.changed`` per changed ticket to the groups that may see it.

The relay is driven here step by step: ``look()`` returns the (group, message) pairs
that ``run()`` hands to the channel layer;
tests/web/test_browser_lists_update_live_when_tickets_change.py shows it in Chromium
with the change made outside the server process.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer

from hotline.cases import actions, deadlines
from hotline.cases.models import TicketEvent
from hotline.web import live
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def _by_group(messages: list[tuple[str, dict[str, Any]]]) -> dict[str, list[tuple[int, str, str]]]:
    """What each group would receive: (ticket, kind, status) in sending order."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    for group, m in messages:
        assert m["type"] == "ticket.changed" and set(m) == {"type", "ticket", "kind", "status"}  # ids and states only
        out.setdefault(group, []).append((m["ticket"], m["kind"], m["status"]))
    return out


def test_the_relay_announces_changes_made_anywhere_once_per_ticket_and_only_in_scope(people: Any, tree: Any) -> None:
    relay = live.EventRelay(InMemoryChannelLayer())
    center, donghua, west = live.CENTER_GROUP, live.dept_group(tree.donghua.pk), live.dept_group(tree.xicheng.pk)

    before = actions.do_create_ticket(people.call_taker, ticket_input())
    assert relay.look() == []  # the first look only takes its position: no history replayed
    assert relay.watermark == TicketEvent.objects.order_by("-id").values_list("id", flat=True).first()

    # A dispatch (signals fire, but the in-memory layer is left to the relay) and a
    # second change of the same ticket: one message for that ticket, with its newest state.
    t = actions.do_create_ticket(people.call_taker, ticket_input(summary="东华街道路灯不亮"))
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua_community.pk, [])
    actions.do_urge(t.pk, people.dispatcher, comment="请尽快处理")
    sent = _by_group(relay.look())
    assert sent[center] == [(t.pk, "urge", "dispatched")]
    assert [ticket for ticket, _, _ in sent[donghua]] == [t.pk]
    assert west not in sent  # 西城区 may not see it
    assert relay.look() == []  # nothing new: nothing sent twice

    # The worker's automatic urges are written in bulk, without signals: still announced.
    actions.do_dispatch(before.pk, people.call_taker, tree.donghua_community.pk, [])
    assert {ticket for ticket, _, _ in _by_group(relay.look())[donghua]} == {before.pk}
    counts = deadlines.run_deadline_job(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=120))
    assert sum(counts.values()) >= 2
    sent = _by_group(relay.look())
    assert {ticket for ticket, _, _ in sent[donghua]} == {t.pk, before.pk}
    assert {ticket for ticket, _, _ in sent[center]} == {t.pk, before.pk}
    assert all(kind.startswith("auto_urge") for _, kind, _ in sent[center])
    assert west not in sent


def test_an_event_committed_behind_the_watermark_is_still_announced_once(people: Any, tree: Any) -> None:
    """PostgreSQL hands out ids before commit: a transaction that took a lower id can
    commit after the relay has seen a higher one. Each look goes LOOKBACK ids back."""
    relay = live.EventRelay(InMemoryChannelLayer())
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    relay.look()
    late = TicketEvent.objects.filter(ticket=t).order_by("-id").first()
    assert late is not None
    relay.floor, relay.watermark = late.pk - 1, late.pk + 3  # ids up to +3 seen, this one not yet
    assert [ticket for ticket, _, _ in _by_group(relay.look())[live.CENTER_GROUP]] == [t.pk]
    assert relay.look() == []


def test_nobody_listening_costs_nothing_and_a_new_listener_hears_only_what_follows(people: Any) -> None:
    relay = live.EventRelay(InMemoryChannelLayer())
    relay.look()
    actions.do_create_ticket(people.call_taker, ticket_input())
    relay.reset()  # what run() does when no group has a member
    assert relay.look() == []
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    assert {m[1]["ticket"] for m in relay.look()} == {t.pk}
