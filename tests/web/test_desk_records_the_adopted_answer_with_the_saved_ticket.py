""""采用答复" on the desk puts the article in the hidden ``assist_article`` input; saving
the ticket records that the article answered it. An article that cannot be recorded
(unknown, not visible to the call-taker) never costs the call-taker the ticket."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases.models import Ticket
from hotline.knowledge.models import ArticleUsage, UsageKind
from tests.conftest import ticket_input
from tests.knowledge._kb import article
from tests.web.test_pages_render_for_every_role_and_keep_typed_input import client_for

pytestmark = pytest.mark.django_db


def test_the_adopted_article_is_recorded_against_the_saved_ticket(people: Any) -> None:
    a = article(people.team_leader, "停水报修", answer="请拨打供水服务热线。")
    r = client_for(people.call_taker).post("/desk/", {**ticket_input(), "op": "save", "assist_article": str(a.pk)})
    assert r.status_code == 302, r.content.decode()[:800]
    t = Ticket.objects.get()
    u = ArticleUsage.objects.get()
    assert (u.article_id, u.ticket_id, u.kind, u.user_id) == (a.pk, t.pk, UsageKind.ANSWER, people.call_taker.pk)


@pytest.mark.parametrize("bad", ["999999", "abc", "-1", ""])
def test_an_article_that_cannot_be_recorded_still_saves_the_ticket(people: Any, bad: str) -> None:
    r = client_for(people.call_taker).post("/desk/", {**ticket_input(), "op": "save", "assist_article": bad})
    assert r.status_code == 302, r.content.decode()[:800]
    assert Ticket.objects.count() == 1
    assert not ArticleUsage.objects.exists()


def test_an_unpublished_article_is_not_recorded_but_the_ticket_is_saved(people: Any) -> None:
    draft = article(people.team_leader, "内部草稿", answer="尚未发布", publish=False)
    r = client_for(people.call_taker).post("/desk/", {**ticket_input(), "op": "save", "assist_article": str(draft.pk)})
    assert r.status_code == 302
    assert Ticket.objects.count() == 1
    assert not ArticleUsage.objects.filter(article=draft).exists()
