"""Dispatch suggestions are measured over time: each logged suggestion is compared
with the lead department the ticket was finally dispatched to, and the report gives
top-1/top-3 rates per day or per week and per source (rule or model)."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.cases import actions as cases
from hotline.knowledge import actions, queries
from hotline.knowledge.dispatch import Ranked, Suggestion
from hotline.lib.errors import InvalidInput, Forbidden
from tests.conftest import MONDAY, ticket_input

DAY = dt.timedelta(days=1)


def test_rates_per_week_per_day_and_per_source(people, tree):
    a, b, c = tree.donghua.pk, tree.dongcheng.pk, tree.xicheng.pk
    # (when suggested, source, ranked suggestion, final lead department)
    plan = [
        (MONDAY - 7 * DAY, "model", [a, b, c], a),  # week 1: first choice right
        (MONDAY - 6 * DAY, "model", [b, a, c], a),  # week 1: right within three
        (MONDAY, "model", [b, c], a),               # week 2: wrong
        (MONDAY + DAY, "rule", [a, b], a),          # week 2: a rule, right
    ]
    for at, source, ranked, final in plan:
        ticket = cases.do_create_ticket(people.call_taker, ticket_input(), now=at)
        suggestion = Suggestion(source=source, model_version="m1", departments=[Ranked(d, 0.5) for d in ranked], categories=[])
        assert actions.do_log_suggestion(ticket, suggestion, now=at) is not None
        cases.do_dispatch(ticket.pk, people.dispatcher, final, now=at + dt.timedelta(hours=1))
    assert actions.do_resolve_dispatch_logs(now=MONDAY + 2 * DAY) == 4

    weekly = queries.dispatch_accuracy(people.supervisor, MONDAY + 2 * DAY, since=MONDAY - 14 * DAY, bucket="week")
    assert weekly["total"] == {"count": 4, "top1": 0.5, "top3": 0.75}
    assert weekly["series"] == [
        {"start": "2026-11-16", "count": 2, "top1": 0.5, "top3": 1.0},
        {"start": "2026-11-23", "count": 2, "top1": 0.5, "top3": 0.5},
    ]
    assert weekly["by_source"] == {"model": {"count": 3, "top1": 0.3333, "top3": 0.6667},
                                   "rule": {"count": 1, "top1": 1.0, "top3": 1.0}}
    daily = queries.dispatch_accuracy(people.supervisor, MONDAY + 2 * DAY, since=MONDAY - 14 * DAY, bucket="day")
    assert [(p["start"], p["count"]) for p in daily["series"]] == [
        ("2026-11-16", 1), ("2026-11-17", 1), ("2026-11-23", 1), ("2026-11-24", 1)]
    # The period bounds the report.
    assert queries.dispatch_accuracy(people.supervisor, MONDAY + 2 * DAY, since=MONDAY - DAY)["total"]["count"] == 2

    with pytest.raises(InvalidInput):
        queries.dispatch_accuracy(people.supervisor, MONDAY, bucket="month")
    with pytest.raises(Forbidden):
        queries.dispatch_accuracy(people.call_taker, MONDAY)
