"""UI strings go through Django i18n: Chinese by default, English when asked."""

from __future__ import annotations

from hotline.cases import actions
from tests.conftest import Api, People, Tree, ticket_input


def test_status_labels_follow_accept_language(people: People, tree: Tree, api_as: type[Api]) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    api = api_as(people.call_taker)
    assert api.get(f"/tickets/{t.pk}").json_body["status_label"] == "已受理"
    english = api.client.get(f"/api/tickets/{t.pk}", headers={**api.headers, "Accept-Language": "en"})
    assert english.json()["status_label"] == "Registered"
    timeline = api.client.get(f"/api/tickets/{t.pk}/timeline", headers={**api.headers, "Accept-Language": "en"}).json()
    assert [e["label"] for e in timeline] == ["Created", "Register"]
