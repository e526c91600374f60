"""Validity and status are filtered in SQL: an article outside its effective/expiry
dates, or not published, never appears in a current search — for anyone."""

from __future__ import annotations

import datetime as dt

from hotline.knowledge import access, actions
from hotline.knowledge.search import ArticleFilter, search_articles
from tests.conftest import MONDAY
from tests.knowledge._kb import article

DAY = dt.timedelta(days=1)


def _titles(results):  # type: ignore[no-untyped-def]
    return sorted(r.article.title for r in results)


def _setup(people):  # type: ignore[no-untyped-def]
    editor = people.team_leader
    article(editor, "医保报销现行办法", body="<p>医保报销比例。</p>", effective_at=MONDAY - 10 * DAY, expires_at=MONDAY + 300 * DAY)
    article(editor, "医保报销旧办法", body="<p>医保报销比例（旧）。</p>", effective_at=MONDAY - 400 * DAY, expires_at=MONDAY - DAY)
    article(editor, "医保报销明年新办法", body="<p>医保报销比例（新）。</p>", effective_at=MONDAY + 30 * DAY)
    article(editor, "医保报销草稿", body="<p>医保报销。</p>", publish=False)
    retired = article(editor, "医保报销已下线", body="<p>医保报销。</p>")
    actions.do_transition(editor, retired.pk, "retire", now=MONDAY - DAY)
    article(editor, "医保报销公开问答", body="<p>医保报销。</p>", visibility="public")


def test_current_search_shows_only_effective_unexpired_published_articles(people):
    _setup(people)
    results = search_articles("医保报销", ArticleFilter(now=MONDAY), limit=20)
    assert _titles(results) == ["医保报销公开问答", "医保报销现行办法"]


def test_expiry_is_exact_to_the_moment(people):
    editor = people.team_leader
    article(editor, "停水公告", body="<p>东华路停水。</p>", expires_at=MONDAY)
    assert _titles(search_articles("停水", ArticleFilter(now=MONDAY - dt.timedelta(seconds=1)), limit=5)) == ["停水公告"]
    assert search_articles("停水", ArticleFilter(now=MONDAY), limit=5) == []


def test_every_non_editor_gets_the_current_filter_whatever_they_ask(people):
    _setup(people)
    for user in (people.call_taker, people.dispatcher, people.handler, people.auditor):
        f = access.article_filter(user, MONDAY, validity="all", statuses=["draft", "retired", "published"])
        assert _titles(search_articles("医保报销", f, limit=20)) == ["医保报销公开问答", "医保报销现行办法"]


def test_anonymous_citizens_see_public_current_articles_only(people):
    _setup(people)
    f = access.article_filter(None, MONDAY)
    assert _titles(search_articles("医保报销", f, limit=20)) == ["医保报销公开问答"]


def test_editors_may_look_at_expired_upcoming_and_draft_articles_on_purpose(people):
    _setup(people)
    editor = people.team_leader
    expired = access.article_filter(editor, MONDAY, validity="expired")
    assert _titles(search_articles("医保报销", expired, limit=20)) == ["医保报销旧办法"]
    upcoming = access.article_filter(editor, MONDAY, validity="upcoming")
    assert _titles(search_articles("医保报销", upcoming, limit=20)) == ["医保报销明年新办法"]
    drafts = access.article_filter(editor, MONDAY, validity="all", statuses=["draft"])
    assert _titles(search_articles("医保报销", drafts, limit=20)) == ["医保报销草稿"]


def test_an_expired_article_cannot_be_published(people):
    editor = people.team_leader
    a = article(editor, "过期政策", body="<p>旧政策。</p>", publish=False, expires_at=MONDAY - DAY)
    actions.do_transition(editor, a.pk, "review", now=MONDAY)
    try:
        actions.do_transition(editor, a.pk, "publish", now=MONDAY)
    except actions.InvalidInput as exc:
        assert exc.errors[0]["field"] == "expires_at" and exc.errors[0]["rule"] == "in_future"
    else:
        raise AssertionError("publishing an expired article must be refused")
