"""Free text (``q``): every word must occur as a substring of the summary, the content
or the address — words of one, two (most Chinese words: 停水, 噪音) and more
characters, Latin letters in any case. On PostgreSQL two-character and longer words
also go through the bigram index (migration 0004): a word whose characters occur in a
ticket, but not next to each other, must not match."""

from __future__ import annotations

from hotline.cases import actions
from tests.conftest import Api, People, ticket_input


def _numbers(api: Api, q: str) -> set[str]:
    body = api.get("/tickets", {"q": q, "page_size": 50}).json_body
    assert body["count"] == len(body["items"])
    return {t["number"] for t in body["items"]}


def test_words_of_every_length_in_summary_content_and_address(people: People, api_as: type[Api]) -> None:
    water = actions.do_create_ticket(people.call_taker, ticket_input(summary="小区停水", content="从早上开始没有水。", address="东城区解放路1号"))
    noise = actions.do_create_ticket(people.call_taker, ticket_input(summary="夜间施工噪音", content="工地晚上十一点还在施工。", address="西城区建设路2号"))
    lift = actions.do_create_ticket(people.call_taker, ticket_input(summary="电梯故障", content="物业不修KONE电梯。", address="南湖区湖滨路3号"))
    api = api_as(people.dispatcher)
    assert _numbers(api, "停水") == {water.number}                      # two characters, summary
    assert _numbers(api, "噪音") == {noise.number}
    assert _numbers(api, "施工") == {noise.number}                      # summary and content
    assert _numbers(api, "建设路") == {noise.number}                    # three characters, address
    assert _numbers(api, "水") == {water.number}                        # one character
    assert _numbers(api, "kone") == {lift.number}                       # case-insensitive
    assert _numbers(api, "物业 电梯") == {lift.number}                  # every word must occur
    assert _numbers(api, "物业 停水") == set()
    assert _numbers(api, "路") == {water.number, noise.number, lift.number}


def test_characters_present_but_not_adjacent_do_not_match(people: People, api_as: type[Api]) -> None:
    actions.do_create_ticket(people.call_taker, ticket_input(summary="水管停了", content="停电后水压低。", address="东城区"))
    api = api_as(people.dispatcher)
    assert _numbers(api, "停水") == set()       # 停 and 水 both occur, never as 停水
    assert _numbers(api, "水停电") == set()     # every bigram (水停? no; 停电 yes) must be there, and the LIKE decides
    assert len(_numbers(api, "停电")) == 1


def test_department_users_search_only_their_own_tickets(people: People, tree: object, api_as: type[Api]) -> None:
    mine = actions.do_dispatch(actions.do_create_ticket(people.call_taker, ticket_input(summary="路灯不亮")).pk, people.dispatcher, "donghua")
    actions.do_dispatch(actions.do_create_ticket(people.call_taker, ticket_input(summary="路灯倒了")).pk, people.dispatcher, "xicheng")
    assert _numbers(api_as(people.handler), "路灯") == {mine.number}


def test_free_text_counts_stop_at_their_own_cap(people: People, api_as: type[Api], monkeypatch: object) -> None:
    from hotline.cases import queries

    monkeypatch.setattr(queries, "FREE_TEXT_COUNT_CAP", 2)  # type: ignore[attr-defined]
    for _ in range(3):
        actions.do_create_ticket(people.call_taker, ticket_input(summary="楼上噪音"))
    api = api_as(people.dispatcher)
    body = api.get("/tickets", {"q": "噪音"}).json_body
    assert body["count"] == 2 and body["count_capped"] is True and len(body["items"]) == 3
    plain = api.get("/tickets").json_body  # without free text the ordinary cap applies
    assert plain["count"] == 3 and plain["count_capped"] is False


def test_dictionary_codes_filter_by_id_and_unknown_codes_match_nothing(people: People, api_as: type[Api]) -> None:
    from hotline.directory.models import District

    east = District.objects.create(code="east-test", name="东部测试区")
    west = District.objects.create(code="west-test", name="西部测试区", active=False)  # inactive: old tickets still filter
    a = actions.do_create_ticket(people.call_taker, ticket_input(district=east.pk))
    b = actions.do_create_ticket(people.call_taker, ticket_input(source="web"))
    from hotline.cases.models import Ticket

    Ticket.objects.filter(pk=b.pk).update(district=west)
    api = api_as(people.dispatcher)
    assert {t["number"] for t in api.get("/tickets", {"district": "east-test"}).json_body["items"]} == {a.number}
    assert {t["number"] for t in api.get("/tickets", {"district": "west-test"}).json_body["items"]} == {b.number}
    assert {t["number"] for t in api.get("/tickets", {"source": "web"}).json_body["items"]} == {b.number}
    assert api.get("/tickets", {"district": "nowhere"}).json_body["count"] == 0
    assert api.get("/tickets", {"district": str(east.pk)}).json_body["count"] == 1
