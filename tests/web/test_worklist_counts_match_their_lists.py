"""我的工作 counts: lists counted together (one GROUP BY status, one colour query) give
the same totals and red/yellow figures as counting each list's own rows, for every
role, including a department user whose scope holds assisted tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hotline.cases import actions, deadlines
from hotline.cases.models import Ticket
from hotline.web import worklists
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db


def naive(user: Any, now: dt.datetime) -> dict[str, dict[str, int]]:
    out = {}
    for w in worklists.lists_for(user):
        rows = list(w.queryset(user, now))
        colours = [deadlines.colour_of(t, now) for t in rows] if w.coloured else []
        out[w.key] = {"total": len(rows), "red": colours.count("red"), "yellow": colours.count("yellow")}
    return out


def test_grouped_counts_equal_the_lists(people: Any, tree: Any) -> None:
    ct, now = people.call_taker, dt.datetime.now(dt.timezone.utc)
    made = []
    for i in range(9):
        made.append(actions.do_create_ticket(ct, ticket_input(summary=f"诉求{i}"), register=i != 0))
    for t in made[1:8]:
        actions.do_dispatch(t.pk, ct, tree.donghua.pk if t.pk % 2 else tree.water.pk,
                            [tree.donghua.pk] if not t.pk % 2 else [])
    for t in made[1:6]:
        lead = Ticket.objects.get(pk=t.pk).lead_department_id
        actions.do_sign_for(t.pk, people.handler if lead == tree.donghua.pk else people.water_handler)
    t2 = Ticket.objects.get(pk=made[2].pk)
    h2 = people.handler if t2.lead_department_id == tree.donghua.pk else people.water_handler
    actions.do_reply(t2.pk, h2, "已处理")
    t3 = Ticket.objects.get(pk=made[3].pk)
    h3 = people.handler if t3.lead_department_id == tree.donghua.pk else people.water_handler
    actions.do_request_return(t3.pk, h3, "不属于本单位")
    # some deadlines in the past (red) and some inside the warning period (yellow)
    open_ids = list(Ticket.objects.filter(status__in=list(deadlines.RUNNING_STATES)).values_list("pk", flat=True))
    Ticket.objects.filter(pk__in=open_ids[:2]).update(deadline=now - dt.timedelta(days=1), warn_at=now - dt.timedelta(days=3))
    Ticket.objects.filter(pk__in=open_ids[2:4]).update(deadline=now + dt.timedelta(days=1), warn_at=now - dt.timedelta(hours=1))
    for user in (people.call_taker, people.dispatcher, people.team_leader, people.supervisor, people.handler,
                 people.manager, people.water_handler, people.west_handler):
        expected = naive(user, now)
        got = worklists.counts(user, worklists.lists_for(user), now)
        assert got == expected, user.username
    assert sum(c["total"] for c in worklists.counts(people.dispatcher, worklists.lists_for(people.dispatcher), now).values()) > 0
    reds = worklists.counts(people.dispatcher, worklists.lists_for(people.dispatcher), now)
    assert reds["urgeable"]["red"] == 2 and reds["return_requests"]["total"] == 1
