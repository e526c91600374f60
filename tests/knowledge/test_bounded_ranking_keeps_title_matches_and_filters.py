"""When a query matches more documents than the engine ranks (PostgreSQL ranks at
most ``PostgresEngine.CANDIDATES`` per candidate set; here 3), an article whose
title holds the query words is still found first, and filters (category, kind) are
applied before the bound, so a filtered search never comes back empty while
matching articles exist. Runs on whichever database DATABASE_URL names (on SQLite
the same expectations hold for FTS5's own ranking)."""

from __future__ import annotations

from hotline.knowledge import actions
from hotline.knowledge.search import ArticleFilter, PostgresEngine, search_articles
from tests.conftest import MONDAY
from tests.knowledge._kb import article


def test_title_match_and_filtered_matches_survive_the_bound(people, monkeypatch):
    editor = people.team_leader
    monkeypatch.setattr(PostgresEngine, "CANDIDATES", 3)
    medical = actions.do_create_category(editor, "医疗保险")
    # Many articles mention the words in their body only; they are saved first.
    for i in range(12):
        article(editor, f"社会保障综合问答{i}", body="<p>参保人员住院后医保报销，按规定比例结算。</p>", kind="policy")
    in_category = article(editor, "慢性病门诊待遇", body="<p>门诊慢性病医保报销比例较高。</p>", category=medical.pk, kind="guide")
    title_match = article(editor, "医保报销指南", body="<p>材料与流程。</p>")

    hits = search_articles("医保报销", ArticleFilter(now=MONDAY), limit=5)
    assert len(hits) == 5
    assert hits[0].article.pk == title_match.pk

    by_category = search_articles("医保报销", ArticleFilter(now=MONDAY, category_path=medical.path), limit=5)
    assert [h.article.pk for h in by_category] == [in_category.pk]
    by_kind = search_articles("医保报销", ArticleFilter(now=MONDAY, kinds=["guide"]), limit=5)
    assert [h.article.pk for h in by_kind] == [in_category.pk]
