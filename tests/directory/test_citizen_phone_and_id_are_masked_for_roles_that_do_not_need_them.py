"""Citizens' records: call-takers and team leaders see phone and ID number in full,
dispatchers the phone only, supervisors and quality inspectors neither (masked with
the helpers of ``cases.access``); departments, administrators, statisticians and
auditors cannot look citizens up at all. Lookup finds a citizen by any phone."""

from __future__ import annotations

import pytest

from hotline.directory import actions
from tests.conftest import People

PHONE, OTHER, ID_NUMBER = "13812345678", "057186001234", "33010219800101123X"


@pytest.fixture
def citizen_id(people: People) -> int:
    c = actions.do_create_citizen(people.call_taker, {
        "phone": PHONE, "other_phones": [OTHER], "name": "钱女士", "id_number": ID_NUMBER,
        "address": "东城区东华路88号3栋", "tags": ["VIP", "老年人"],
    })
    return c.pk


@pytest.mark.parametrize(
    ("role", "phone", "other", "id_number"),
    [
        ("call_taker", PHONE, OTHER, ID_NUMBER),
        ("team_leader", PHONE, OTHER, ID_NUMBER),
        ("dispatcher", PHONE, OTHER, "3301**********123X"),
        ("supervisor", "138****5678", "057*****1234", "3301**********123X"),
        ("inspector", "138****5678", "057*****1234", "3301**********123X"),
    ],
)
def test_each_reading_role_sees_what_it_needs(role: str, phone: str, other: str, id_number: str, people: People, citizen_id: int, api_as) -> None:  # type: ignore[no-untyped-def]
    client = api_as(getattr(people, role))
    one = client.get(f"/directory/citizens/{citizen_id}").json_body
    assert (one["phone"], one["other_phones"], one["id_number"]) == (phone, [other], id_number)
    assert one["phone_masked"] == (phone != PHONE) and one["id_number_masked"] == (id_number != ID_NUMBER)
    assert one["tags"] == ["VIP", "老年人"]
    (found,) = client.get("/directory/citizens", {"q": "钱"}).json_body["items"]
    assert (found["phone"], found["id_number"]) == (phone, id_number)
    # Lookup by the other phone finds the same record, masked the same way.
    (looked_up,) = client.get("/directory/citizens/lookup", {"phone": OTHER}).json_body
    assert looked_up["id"] == citizen_id and looked_up["phone"] == phone


@pytest.mark.parametrize("role", ["admin", "statistician", "auditor", "handler", "manager", "water_handler"])
def test_other_roles_cannot_look_citizens_up(role: str, people: People, citizen_id: int, api_as) -> None:  # type: ignore[no-untyped-def]
    client = api_as(getattr(people, role))
    assert client.get(f"/directory/citizens/{citizen_id}").status_code == 403
    assert client.get("/directory/citizens").status_code == 403
    assert client.get("/directory/citizens/lookup", {"phone": PHONE}).status_code == 403


def test_lookup_by_main_phone_tolerates_spaces_and_finds_nobody_for_a_stranger(people: People, citizen_id: int, api_as) -> None:  # type: ignore[no-untyped-def]
    client = api_as(people.call_taker)
    assert [c["id"] for c in client.get("/directory/citizens/lookup", {"phone": "138 1234 5678"}).json_body] == [citizen_id]
    assert client.get("/directory/citizens/lookup", {"phone": "13800000000"}).json_body == []
    # A prefix of another number is not a match.
    assert client.get("/directory/citizens/lookup", {"phone": "0571860"}).json_body == []
    assert [c["id"] for c in client.get("/directory/citizens", {"tag": "VIP"}).json_body["items"]] == [citizen_id]
    assert client.get("/directory/citizens", {"tag": "VI"}).json_body["items"] == []
