"""Data scope: a department user sees tickets where their department (or one below
it) leads or assists, and nothing else — in lists, by id and by number."""

from __future__ import annotations

from hotline.cases import access, actions
from hotline.cases.models import Ticket
from tests.conftest import Api, People, Tree, ticket_input


def make(people: People, lead: int, assists: list[int] | None = None) -> Ticket:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    return actions.do_dispatch(t.pk, people.dispatcher, lead, assists or [])


def test_lead_assisting_and_parent_departments_see_the_ticket(people: People, tree: Tree) -> None:
    led = make(people, tree.donghua.pk)
    assisted = make(people, tree.water.pk, [tree.donghua_community.pk])
    other = make(people, tree.xicheng.pk)
    visible = set(access.visible_tickets(people.handler).values_list("pk", flat=True))
    assert visible == {led.pk, assisted.pk}
    assert set(access.visible_tickets(people.water_handler).values_list("pk", flat=True)) == {assisted.pk}
    assert other.pk in set(access.visible_tickets(people.dispatcher).values_list("pk", flat=True))


def test_other_departments_get_404_by_id_and_by_number(people: People, tree: Tree, api_as: type[Api]) -> None:
    ticket = make(people, tree.xicheng.pk)
    api = api_as(people.handler)
    assert api.get(f"/tickets/{ticket.pk}").status_code == 404
    assert api.get(f"/tickets/{ticket.number}").status_code == 404
    assert api.get(f"/tickets/{ticket.number}/timeline").status_code == 404
    assert api.post(f"/tickets/{ticket.pk}/sign-for").status_code == 404
    assert api_as(people.west_handler).get(f"/tickets/{ticket.number}").status_code == 200


def test_lists_are_filtered_in_sql_for_department_users(people: People, tree: Tree, api_as: type[Api]) -> None:
    make(people, tree.donghua.pk)
    make(people, tree.xicheng.pk)
    body = api_as(people.handler).get("/tickets").json_body
    assert body["count"] == 1
    assert body["items"][0]["lead_department"]["name"] == "东华街道办事处"
    assert api_as(people.dispatcher).get("/tickets").json_body["count"] == 2


def test_administrators_do_not_read_tickets(people: People, tree: Tree, api_as: type[Api]) -> None:
    ticket = make(people, tree.donghua.pk)
    api = api_as(people.admin)
    assert api.get("/tickets").json_body["count"] == 0
    assert api.get(f"/tickets/{ticket.pk}").status_code == 404
