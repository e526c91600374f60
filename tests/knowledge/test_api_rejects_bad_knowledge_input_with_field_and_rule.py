"""Bad input never crashes: every knowledge endpoint answers 4xx JSON naming the
field and the rule."""

from __future__ import annotations

import pytest

from hotline.accounts.models import Role
from tests.conftest import make_user


def _rules(r):  # type: ignore[no-untyped-def]
    return {(e["field"], e["rule"]) for e in r.json_body["errors"]}


def test_article_fields(people, api_as):
    editor = api_as(people.team_leader)
    r = editor.post("/knowledge/articles", {"kind": "poem", "title": "x"})
    assert r.status_code == 422 and ("kind", "enum") in _rules(r)
    r = editor.post("/knowledge/articles", {"kind": "faq", "title": "   ", "review_remind_days": 400})
    assert r.status_code == 422 and _rules(r) == {("title", "required"), ("review_remind_days", "range")}
    r = editor.post("/knowledge/articles", {"kind": "duty", "title": "职责"})
    assert r.status_code == 422 and _rules(r) == {("owner_department", "required")}
    r = editor.post("/knowledge/articles", {"kind": "faq", "title": "x", "owner_department": "nowhere", "category": 999999})
    assert r.status_code == 422 and _rules(r) == {("owner_department", "exists"), ("category", "exists")}
    r = editor.post("/knowledge/articles", {"kind": "faq", "title": "x", "expires_at": "soon"})
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "expires_at"
    r = editor.post("/knowledge/articles", {"kind": "faq", "title": "x" * 201})
    assert r.status_code == 422 and _rules(r) == {("title", "max_length")}
    a = editor.post("/knowledge/articles", {"kind": "faq", "title": "x"}).json_body
    r = editor.patch(f"/knowledge/articles/{a['id']}", {})
    assert r.status_code == 422 and _rules(r) == {("body", "not_empty")}
    r = editor.patch(f"/knowledge/articles/{a['id']}", {"title": "y", "version": 7})
    assert r.status_code == 409
    r = editor.post(f"/knowledge/articles/{a['id']}/workflow/publish")
    assert r.status_code == 409 and r.json_body["allowed_actions"] == ["edit", "review", "retire"]
    r = editor.post(f"/knowledge/articles/{a['id']}/workflow/explode")
    assert r.status_code == 422 and _rules(r) == {("action", "choice")}
    assert editor.get("/knowledge/articles/999999").status_code == 404
    assert editor.get("/knowledge/articles/abc").status_code == 422


@pytest.mark.parametrize("params,field,rule", [
    ({"q": ""}, "q", "required"),
    ({"q": "x" * 501}, "q", "max_length"),
    ({"q": "医保", "validity": "forever"}, "validity", "choice"),
    ({"q": "医保", "status": "lost"}, "status", "choice"),
    ({"q": "医保", "kind": "poem"}, "kind", "choice"),
    ({"q": "医保", "limit": 0}, "limit", "range"),
    ({"q": "医保", "limit": 51}, "limit", "range"),
    ({"q": "医保", "category": 424242}, "category", "exists"),
    ({"q": "医保", "limit": "many"}, "limit", "int_parsing"),
])
def test_search_parameters(db, api_as, params, field, rule):
    # One user is enough here (the full ``people`` fixture costs 12 password hashes per case).
    r = api_as(make_user("desk", Role.CALL_TAKER)).get("/knowledge/search", params)
    assert r.status_code == 422 and (field, rule) in _rules(r), r.json_body


def test_desk_endpoints(people, api_as):
    desk = api_as(people.call_taker)
    r = desk.post("/knowledge/assist", {})
    assert r.status_code == 422 and _rules(r) == {("content", "required")}
    r = desk.post("/knowledge/assist", {"content": "停水", "district": "atlantis"})
    assert r.status_code == 422 and _rules(r) == {("district", "exists")}
    r = desk.post("/knowledge/assist", {"content": "停水", "phone": "call me maybe"})
    assert r.status_code == 422 and _rules(r) == {("phone", "phone_format")}
    r = desk.post("/knowledge/assist", {"content": "停" * 10_001})
    assert r.status_code == 422 and _rules(r) == {("content", "max_length")}
    r = desk.post("/knowledge/duplicates", {"content": "停水", "window_days": 0})
    assert r.status_code == 422 and _rules(r) == {("window_days", "range")}
    assert desk.post("/knowledge/duplicates", {"ticket": "999999"}).status_code == 404
    r = desk.post("/knowledge/dispatch/suggest", {"summary": ""})
    assert r.status_code == 422 and _rules(r) == {("content", "required")}
    r = desk.post("/knowledge/articles/999999/usage", {"kind": "answer"})
    assert r.status_code == 404
    r = desk.post("/knowledge/articles/1/usage", {"kind": "stolen"})
    assert r.status_code == 422 and ("kind", "enum") in _rules(r)


def test_reports_and_administration(people, api_as):
    leader = api_as(people.team_leader)
    r = leader.get("/knowledge/hot-topics", {"period": "year"})
    assert r.status_code == 422 and _rules(r) == {("period", "choice")}
    r = leader.get("/knowledge/dispatch/accuracy", {"bucket": "hour"})
    assert r.status_code == 422 and _rules(r) == {("bucket", "choice")}
    r = leader.get("/knowledge/dispatch/accuracy", {"since": "2026-11-25T00:00:00+08:00", "until": "2026-11-01T00:00:00+08:00"})
    assert r.status_code == 422 and _rules(r) == {("since", "before_until")}
    admin = api_as(people.admin)
    r = admin.post("/knowledge/words", {"word": "两个 词"})
    assert r.status_code == 422 and _rules(r) == {("word", "format")}
    r = admin.post("/knowledge/words", {"word": "滨江通", "freq": 0})
    assert r.status_code == 422 and _rules(r) == {("freq", "range")}
    assert admin.post("/knowledge/words", {"word": "滨江通"}).status_code == 201
    r = admin.post("/knowledge/words", {"word": "滨江通"})
    assert r.status_code == 422 and _rules(r) == {("word", "unique")}
    r = admin.post("/knowledge/synonyms", {"words": ["电梯"]})
    assert r.status_code == 422 and _rules(r) == {("words", "min_items")}
    r = admin.post("/knowledge/synonyms", {"words": "电梯,升降梯"})
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "words"
    r = admin.post("/knowledge/routing-rules", {"category": "no.such", "department": "nowhere"})
    assert r.status_code == 422 and _rules(r) == {("category", "exists"), ("department", "exists")}
    assert admin.delete("/knowledge/routing-rules/999999").status_code == 404
    r = admin.get("/knowledge/articles/export", {"format": "pdf"})
    assert r.status_code == 422 and _rules(r) == {("format", "choice")}


def test_roles_without_the_right_get_403(people, api_as):
    assert api_as(people.call_taker).post("/knowledge/words", {"word": "滨江通"}).status_code == 403
    assert api_as(people.handler).post("/knowledge/assist", {"content": "停水"}).status_code == 403
    assert api_as(people.call_taker).get("/knowledge/articles/export").status_code == 403
    assert api_as(people.handler).get("/knowledge/hot-topics").status_code == 403
    assert api_as(people.auditor).post("/knowledge/dispatch/suggest", {"content": "停水"}).status_code == 403
