"""The portal's knowledge answers (常见问题与办事指南): search and article pages show
published, public, currently valid articles only — never internal, draft, retired,
expired or not-yet-effective ones, not even to a logged-in staff member, and not by
typing an article's URL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hotline.knowledge import actions as kb_actions
from hotline.knowledge.search import SearchEngine, vocabulary
from tests.knowledge._kb import article
from tests.web.test_pages_render_for_every_role_and_keep_typed_input import client_for

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _fresh_vocabulary(db: Any) -> Any:
    vocabulary.invalidate()
    SearchEngine._df.clear()
    yield
    vocabulary.invalidate()


def knowledge(people: Any) -> dict[str, Any]:
    editor, now = people.team_leader, timezone.now()
    out = {
        "public": article(editor, "居住证办理需要哪些材料", answer="携带身份证和租房合同到居住地派出所办理居住证。", visibility="public", now=now,
                          body="<p>居住证办理:<b>身份证</b>、租房合同。</p><script>alert(1)</script>"),
        "internal": article(editor, "居住证内部审核口径", answer="内部:居住证审核口径,不对外。", visibility="internal", now=now),
        "draft": article(editor, "居住证草稿问答", answer="居住证草稿。", visibility="public", publish=False, now=now),
        "expired": article(editor, "居住证旧办法", answer="居住证旧办法。", visibility="public", now=now,
                           effective_at=now - 400 * DAY, expires_at=now - DAY),
        "upcoming": article(editor, "居住证明年新办法", answer="居住证新办法。", visibility="public", now=now, effective_at=now + 30 * DAY),
        "retired": article(editor, "居住证已下线问答", answer="居住证已下线。", visibility="public", now=now),
    }
    kb_actions.do_transition(editor, out["retired"].pk, "retire", now=now - DAY)
    return out


def test_search_finds_only_the_public_current_article(people: Any) -> None:
    arts = knowledge(people)
    for c in (Client(HTTP_ACCEPT_LANGUAGE="zh-CN"), client_for(people.team_leader)):  # an editor logged in sees no more here
        r = c.get("/portal/knowledge/", {"q": "居住证"})
        assert r.status_code == 200
        text = r.content.decode()
        assert f'href="/portal/knowledge/{arts["public"].pk}/"' in text and "<mark>" in text
        for key in ("internal", "draft", "expired", "upcoming", "retired"):
            assert f'/portal/knowledge/{arts[key].pk}/' not in text, key
        assert "内部审核口径" not in text and "不对外" not in text


def test_the_list_before_a_search_shows_public_current_articles_only(people: Any) -> None:
    arts = knowledge(people)
    text = Client().get("/portal/knowledge/").content.decode()
    assert "居住证办理需要哪些材料" in text
    for key in ("internal", "draft", "expired", "upcoming", "retired"):
        assert arts[key].title not in text, key


def test_article_pages_open_for_public_articles_and_are_404_for_every_other(people: Any) -> None:
    arts = knowledge(people)
    anonymous, staff = Client(), client_for(people.call_taker)
    r = anonymous.get(f"/portal/knowledge/{arts['public'].pk}/")
    text = r.content.decode()
    assert r.status_code == 200 and "携带身份证和租房合同" in text and "<b>身份证</b>" in text
    assert "<script>alert(1)</script>" not in text, "the body is the knowledge app's sanitised HTML"
    for key in ("internal", "draft", "expired", "upcoming", "retired"):
        for c in (anonymous, staff):
            assert c.get(f"/portal/knowledge/{arts[key].pk}/").status_code == 404, key
    assert anonymous.get("/portal/knowledge/999999/").status_code == 404


def test_the_portal_home_has_the_search_box_and_bad_queries_are_answered_in_chinese(people: Any) -> None:
    knowledge(people)
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    text = c.get("/portal/").content.decode()
    assert 'id="portal-kb"' in text and 'action="/portal/knowledge/"' in text and 'name="q"' in text
    r = c.get("/portal/knowledge/", {"q": "停" * 501})
    assert r.status_code == 422 and "内容过长" in r.content.decode()
    r = c.get("/portal/knowledge/", {"q": "完全不相干的火星殖民计划"})
    assert r.status_code == 200 and 'id="kb-none"' in r.content.decode()
    r = c.get("/portal/knowledge/", {"q": "<script>alert(1)</script>居住证"})
    assert r.status_code == 200 and "<script>alert(1)</script>" not in r.content.decode()
