"""判重 end to end through the API, as the desk does it: a newly registered repeat
is checked, the original is flagged with its similarity and score, the call-taker
merges the repeat into it with the case system's merge, and the merged ticket is
never offered as a duplicate again (the original still is). The window can be set
per request; a bad one is a 422 naming the field."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hotline.cases import actions as cases
from tests.conftest import ticket_input

REPEAT = dict(contact_phone="13900001111", citizen_name="李女士", summary="东华路88号断水一天多了",
              content="我家在东华路88号，从昨天上午开始一直没水，水厂和物业都没有提前通知，家里有老人小孩，用水很困难，请尽快恢复供水。")


def test_check_merge_and_the_merged_ticket_drops_out(people, api_as):
    now = timezone.now()
    original = cases.do_create_ticket(people.call_taker, ticket_input(), now=now - dt.timedelta(days=2))
    repeat = cases.do_create_ticket(people.call_taker, ticket_input(**REPEAT), now=now - dt.timedelta(hours=1))
    desk = api_as(people.call_taker)

    r = desk.post("/knowledge/duplicates", {"ticket": repeat.number})
    assert r.status_code == 200, r.json_body
    [hit] = r.json_body["items"]
    assert hit["number"] == original.number and hit["probable"] and hit["same_address"]
    assert 0.3 <= hit["similarity"] <= hit["score"] <= 1.0

    r = desk.post(f"/tickets/{repeat.number}/merge", {"original": original.number, "comment": "同一停水诉求"})
    assert r.status_code == 200, r.json_body
    assert r.json_body["status"] == "merged"

    # A third call about the same outage: the original is offered, the merged repeat is not.
    third = {**REPEAT, "phone": "13600003333", "address": "东城区东华路88号", "summary": "东华路88号停水"}
    found = desk.post("/knowledge/duplicates", third).json_body["items"]
    assert [i["number"] for i in found] == [original.number]

    # The window is the caller's to choose: three days back finds the two-day-old original, one day does not.
    assert [i["number"] for i in desk.post("/knowledge/duplicates", {**third, "window_days": 3}).json_body["items"]] == [original.number]
    assert desk.post("/knowledge/duplicates", {**third, "window_days": 1}).json_body["items"] == []
    bad = desk.post("/knowledge/duplicates", {**third, "window_days": 0})
    assert bad.status_code == 422 and bad.json_body["errors"][0]["field"] == "window_days"
