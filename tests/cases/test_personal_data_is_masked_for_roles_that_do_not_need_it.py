"""Citizens' phone and ID numbers: full for the roles that call them back or
register them, masked (138****1234) for everyone else, in JSON and in exports."""

from __future__ import annotations

import csv
import io

from hotline.cases import access, actions
from tests.conftest import Api, People, Tree, ticket_input


def test_mask_phone_keeps_the_first_three_and_last_four_digits() -> None:
    assert access.mask_phone("13812341234") == "138****1234"
    assert access.mask_phone("02388886666") == "023****6666"
    assert access.mask_phone("12345") == "1***5"
    assert access.mask_id_number("110101199003071234") == "1101**********1234"


def test_roles_see_what_they_need(people: People, tree: Tree, api_as: type[Api]) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input(id_number="110101199003071234"))
    actions.do_dispatch(t.pk, people.dispatcher, tree.donghua.pk)
    seen = {
        name: api_as(getattr(people, name)).get(f"/tickets/{t.pk}").json_body
        for name in ("call_taker", "dispatcher", "handler", "statistician", "supervisor", "inspector", "auditor")
    }
    assert seen["call_taker"]["contact_phone"] == "13812341234"
    assert seen["call_taker"]["id_number"] == "110101199003071234"
    assert seen["dispatcher"]["id_number"] == "1101**********1234"
    assert seen["handler"]["contact_phone"] == "13812341234"  # the department calls the citizen
    for name in ("statistician", "supervisor", "inspector", "auditor"):
        assert seen[name]["contact_phone"] == "138****1234", name
        assert seen[name]["id_number"] == "1101**********1234", name
        assert seen[name]["query_code"] is None


def test_a_confidential_ticket_hides_the_phone_from_the_department(people: People, tree: Tree, api_as: type[Api]) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input(confidential=True))
    actions.do_dispatch(t.pk, people.dispatcher, tree.donghua.pk)
    assert api_as(people.handler).get(f"/tickets/{t.pk}").json_body["contact_phone"] == "138****1234"
    assert api_as(people.dispatcher).get(f"/tickets/{t.pk}").json_body["contact_phone"] == "13812341234"


def test_exports_are_masked_too(people: People, tree: Tree, api_as: type[Api]) -> None:
    actions.do_create_ticket(people.call_taker, ticket_input())
    response = api_as(people.statistician).get("/tickets/export.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "工单编号"
    assert rows[1][rows[0].index("联系电话")] == "138****1234"
