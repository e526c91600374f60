"""A department user's list count is counted in two halves (lead in the subtree;
assisting only), each on its own index: every visible ticket counts exactly once,
whether the department leads, assists, or both, and the cap still applies."""

from __future__ import annotations

from typing import Any

from hotline.cases import actions, queries
from hotline.cases.models import Ticket
from tests.conftest import Api, People, Tree, ticket_input


def make(people: People, lead: int | None, assists: list[int] | None = None) -> Ticket:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    if lead is None:
        return t
    return actions.do_dispatch(t.pk, people.dispatcher, lead, assists or [])


def test_lead_assist_and_both_count_once(people: People, tree: Tree, api_as: type[Api]) -> None:
    make(people, tree.donghua.pk)                                   # lead
    make(people, tree.donghua.pk, [tree.donghua_community.pk])      # lead and (sub-department) assist
    make(people, tree.water.pk, [tree.donghua.pk])                  # assist only
    make(people, tree.xicheng.pk, [tree.water.pk])                  # not visible
    make(people, None)                                              # not dispatched: not visible
    body = api_as(people.handler).get("/tickets").json_body
    assert body["count"] == 3 and len(body["items"]) == 3 and not body["count_capped"]
    assert api_as(people.water_handler).get("/tickets").json_body["count"] == 2
    assert api_as(people.west_handler).get("/tickets").json_body["count"] == 1
    # with a filter on top: only the water-led ticket assists 东华
    water_led = api_as(people.handler).get("/tickets", {"lead_department": "water"}).json_body
    assert water_led["count"] == 1 and len(water_led["items"]) == 1


def test_the_cap_applies_across_both_halves(people: People, tree: Tree, api_as: type[Api], monkeypatch: Any) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    make(people, tree.donghua.pk)
    make(people, tree.donghua.pk)
    make(people, tree.water.pk, [tree.donghua.pk])
    body = api_as(people.handler).get("/tickets").json_body
    assert body["count"] == 2 and body["count_capped"] is True
    assert len(body["items"]) == 3


def test_pages_of_a_department_user_merge_both_halves_in_order(people: People, tree: Tree, api_as: type[Api]) -> None:
    """Pages are built from each half's first ids: the order and the page contents must be
    those of the whole scope, deep pages included."""
    made = []
    for i in range(7):
        if i % 3 == 2:
            made.append(make(people, tree.water.pk, [tree.donghua.pk]))  # assisting only
        else:
            made.append(make(people, tree.donghua.pk))
    make(people, tree.xicheng.pk)  # not visible
    api = api_as(people.handler)
    newest_first = [t.number for t in sorted(made, key=lambda t: (t.created_at, t.pk), reverse=True)]
    seen = []
    for page in (1, 2, 3):
        body = api.get("/tickets", {"page": page, "page_size": 3}).json_body
        assert body["count"] == 7
        seen += [t["number"] for t in body["items"]]
    assert seen == newest_first
    by_number = api.get("/tickets", {"sort": "number", "page": 2, "page_size": 2}).json_body
    assert [t["number"] for t in by_number["items"]] == sorted(newest_first)[2:4]


def test_a_page_past_the_end_is_empty_with_the_right_count(people: People, tree: Tree, api_as: type[Api]) -> None:
    make(people, tree.donghua.pk)
    make(people, tree.xicheng.pk)
    for user, expected in ((people.handler, 1), (people.dispatcher, 2)):
        body = api_as(user).get("/tickets", {"page": 5, "page_size": 20}).json_body
        assert body["count"] == expected and body["items"] == [] and body["page"] == 5
