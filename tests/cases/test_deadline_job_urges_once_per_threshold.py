"""The periodic deadline job urges at the sign-for, yellow and red thresholds exactly
once each, records it on the timeline, and a second run does nothing."""

from __future__ import annotations

import datetime as dt

from hotline.cases import actions, deadlines
from hotline.cases.models import Ticket
from hotline.directory.models import Parameter
from tests.conftest import People, Tree, ticket_input

CST = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CST)


def dispatched(people: People, tree: Tree) -> Ticket:
    t = actions.do_create_ticket(people.call_taker, ticket_input(service_type="consult"), now=MONDAY)
    return actions.do_dispatch(t.pk, people.dispatcher, tree.donghua.pk, now=MONDAY)


def kinds(ticket: Ticket) -> list[str]:
    return [k for k in ticket.events.values_list("kind", flat=True) if k.startswith("auto_urge")]


def test_sign_for_overdue_is_urged_once(people: People, tree: Tree) -> None:
    ticket = dispatched(people, tree)
    tuesday_night = dt.datetime(2026, 11, 25, 0, 30, tzinfo=CST)
    assert deadlines.run_deadline_job(tuesday_night)["auto_urge_sign"] == 1
    assert deadlines.run_deadline_job(tuesday_night + dt.timedelta(hours=1))["auto_urge_sign"] == 0
    assert kinds(ticket) == ["auto_urge_sign"]
    ticket.refresh_from_db()
    assert ticket.urge_count == 1


def test_yellow_and_red_are_urged_once_each(people: People, tree: Tree) -> None:
    ticket = dispatched(people, tree)
    actions.do_sign_for(ticket.pk, people.handler, now=MONDAY + dt.timedelta(hours=1))
    yellow_time = dt.datetime(2026, 11, 28, 9, 0, tzinfo=CST)
    red_time = dt.datetime(2026, 12, 1, 9, 0, tzinfo=CST)
    first = deadlines.run_deadline_job(yellow_time)
    assert first == {"auto_urge_sign": 0, "auto_urge_yellow": 1, "auto_urge_red": 0}
    assert deadlines.run_deadline_job(yellow_time)["auto_urge_yellow"] == 0
    assert deadlines.run_deadline_job(red_time)["auto_urge_red"] == 1
    assert deadlines.run_deadline_job(red_time + dt.timedelta(days=1)) == {"auto_urge_sign": 0, "auto_urge_yellow": 0, "auto_urge_red": 0}
    assert kinds(ticket) == ["auto_urge_yellow", "auto_urge_red"]


def test_a_ticket_that_jumped_straight_to_red_gets_the_red_urge(people: People, tree: Tree) -> None:
    ticket = dispatched(people, tree)
    actions.do_sign_for(ticket.pk, people.handler, now=MONDAY)
    counts = deadlines.run_deadline_job(dt.datetime(2026, 12, 10, tzinfo=CST))
    assert counts["auto_urge_red"] == 1
    assert counts["auto_urge_yellow"] == 0  # the yellow window has passed: no stale yellow urge


def test_an_approved_extension_starts_a_new_round_of_urges(people: People, tree: Tree) -> None:
    ticket = dispatched(people, tree)
    actions.do_sign_for(ticket.pk, people.handler, now=MONDAY)
    yellow_time = dt.datetime(2026, 11, 28, 9, 0, tzinfo=CST)
    deadlines.run_deadline_job(yellow_time)
    actions.do_request_extension(ticket.pk, people.handler, dt.date(2026, 12, 18), "需要协调供水公司排查管网", now=yellow_time)
    actions.do_decide_extension(ticket.pk, people.dispatcher, True, now=yellow_time)
    assert deadlines.run_deadline_job(yellow_time)["auto_urge_yellow"] == 0
    assert deadlines.run_deadline_job(dt.datetime(2026, 12, 16, 9, 0, tzinfo=CST))["auto_urge_yellow"] == 1


def test_batches_cover_every_ticket(people: People, tree: Tree) -> None:
    tickets = [dispatched(people, tree) for _ in range(7)]
    counts = deadlines.run_deadline_job(dt.datetime(2026, 11, 25, 1, 0, tzinfo=CST), batch=3)
    assert counts["auto_urge_sign"] == 7
    assert all(kinds(t) == ["auto_urge_sign"] for t in tickets)


def test_auto_urge_can_be_switched_off(people: People, tree: Tree) -> None:
    dispatched(people, tree)
    Parameter.objects.create(key="auto_urge", value=False)
    assert sum(deadlines.run_deadline_job(dt.datetime(2026, 12, 10, tzinfo=CST)).values()) == 0
