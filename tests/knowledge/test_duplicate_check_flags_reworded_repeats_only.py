"""判重: a reworded repeat of an open appeal is flagged with a similarity score;
a different appeal at the same address is not; the window is respected; merged
and voided tickets are never offered."""

from __future__ import annotations

import datetime as dt

from hotline.cases import actions as cases
from hotline.knowledge import similar
from tests.conftest import MONDAY, ticket_input

DAY = dt.timedelta(days=1)

REWORDED = ticket_input(
    contact_phone="13900001111", citizen_name="李女士",
    summary="东华路88号断水一天多了",
    content="我家在东华路88号，从昨天上午开始一直没水，水厂和物业都没有提前通知，家里有老人小孩，用水很困难，请尽快恢复供水。",
)
NOISE_SAME_ADDRESS = ticket_input(
    contact_phone="13700002222", citizen_name="赵先生", category="environment.noise",
    summary="东华路88号楼下烧烤店油烟噪音扰民",
    content="东华路88号楼下烧烤店每天营业到凌晨两点，油烟直排，顾客喧哗，噪音很大，影响休息，要求查处。",
)


def _create(user, data, at):  # type: ignore[no-untyped-def]
    return cases.do_create_ticket(user, data, now=at)


def test_a_reworded_repeat_at_the_same_address_is_flagged_and_an_unrelated_one_is_not(people):
    original = _create(people.call_taker, ticket_input(), MONDAY - 2 * DAY)
    noise = _create(people.call_taker, NOISE_SAME_ADDRESS, MONDAY - DAY)

    found = similar.find_duplicates(REWORDED, now=MONDAY)
    assert [c.ticket_id for c in found] == [original.pk]
    assert found[0].same_address and not found[0].same_caller
    assert 0.3 <= found[0].similarity <= 1.0

    everything = {c.ticket_id: c for c in similar.find_duplicates(REWORDED, now=MONDAY, include_unlikely=True)}
    assert noise.pk in everything and not everything[noise.pk].probable
    assert everything[noise.pk].similarity < everything[original.pk].similarity


def test_a_saved_ticket_is_checked_against_the_others_not_itself(people):
    original = _create(people.call_taker, ticket_input(), MONDAY - 2 * DAY)
    repeat = _create(people.call_taker, REWORDED, MONDAY)
    found = similar.find_duplicates(repeat, now=MONDAY)
    assert [c.ticket_id for c in found] == [original.pk]


def test_the_same_caller_with_a_similar_appeal_is_flagged_even_without_an_address(people):
    original = _create(people.call_taker, ticket_input(address=""), MONDAY - 3 * DAY)
    again = dict(REWORDED, contact_phone=original.contact_phone, address="")
    found = similar.find_duplicates(again, now=MONDAY)
    assert [c.ticket_id for c in found] == [original.pk]
    assert found[0].same_caller and "same_caller" in found[0].reasons


def test_the_window_is_respected(people):
    _create(people.call_taker, ticket_input(), MONDAY - 40 * DAY)
    assert similar.find_duplicates(REWORDED, now=MONDAY, window_days=30) == []
    assert len(similar.find_duplicates(REWORDED, now=MONDAY, window_days=45)) == 1


def test_voided_and_merged_tickets_are_not_offered(people):
    voided = _create(people.call_taker, ticket_input(), MONDAY - 2 * DAY)
    cases.do_void(voided.pk, people.team_leader, "重复登记", now=MONDAY - 2 * DAY)
    assert similar.find_duplicates(REWORDED, now=MONDAY) == []


def test_the_address_key_ignores_city_and_district_prefixes():
    assert similar.address_key("滨江市东城区东华路88号3单元") == similar.address_key("东华路88号") == "东华路88号"
    assert similar.address_key("东华路89号") != similar.address_key("东华路88号")
    assert similar.address_key("") == ""


def test_the_same_kind_of_problem_at_another_address_is_not_a_duplicate(people):
    _create(people.call_taker, ticket_input(), MONDAY - DAY)
    elsewhere = dict(REWORDED, address="西城区长安街1号", summary="长安街1号断水一天多了",
                     content=REWORDED["content"].replace("东华路88号", "长安街1号"))
    assert similar.find_duplicates(elsewhere, now=MONDAY) == []
    # Without a recognisable address, very similar words still count.
    assert len(similar.find_duplicates(dict(REWORDED, address="", content=ticket_input()["content"],
                                            summary=ticket_input()["summary"]), now=MONDAY)) == 1
