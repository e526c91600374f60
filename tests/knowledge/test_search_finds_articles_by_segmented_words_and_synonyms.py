"""Chinese search: the query is segmented with jieba (packaged user dictionary +
administrators' words), expanded with synonyms and matched against the segmented
article text by the database's own full-text engine (FTS5 bm25 on SQLite,
tsvector/ts_rank on PostgreSQL). Runs on whichever database DATABASE_URL names."""

from __future__ import annotations

import datetime as dt

from hotline.knowledge import actions
from hotline.knowledge.search import ArticleFilter, search_articles, vocabulary
from tests.conftest import MONDAY
from tests.knowledge._kb import article


def _titles(results):  # type: ignore[no-untyped-def]
    return [r.article.title for r in results]


def test_medical_insurance_question_finds_the_yibao_reimbursement_article(people):
    editor = people.team_leader
    article(editor, "医保报销流程及所需材料", body="<p>参保人员在定点医院住院的医保报销，需提供发票、费用清单和出院小结。</p>",
            answer="医保报销可在出院时直接结算，或持材料到医保经办窗口办理。")
    article(editor, "住房公积金提取办事指南", body="<p>购房、租房可以提取住房公积金。</p>")
    article(editor, "停水通知查询方式", body="<p>计划停水提前24小时公告。</p>")

    results = search_articles("医疗保险怎么报销", ArticleFilter(now=MONDAY), limit=5)

    assert _titles(results)[:1] == ["医保报销流程及所需材料"]
    assert "住房公积金提取办事指南" not in _titles(results)
    # The query word 医疗保险 matched through its synonym 医保, and the hit is highlighted.
    assert "<mark>医保</mark>" in results[0].title_html
    assert "<mark>" in results[0].snippet_html


def test_relevance_puts_the_title_match_first(people):
    editor = people.team_leader
    article(editor, "物业管理条例解读", body="<p>业主大会、物业服务合同。供暖费另行收取。</p>")
    article(editor, "供暖费收费标准", body="<p>居民供暖费按建筑面积收取。</p>")
    results = search_articles("供暖费多少钱", ArticleFilter(now=MONDAY), limit=5)
    assert _titles(results) == ["供暖费收费标准", "物业管理条例解读"]
    assert results[0].score > results[1].score


def test_an_administrators_new_word_is_segmented_as_one_word(people):
    editor = people.team_leader
    # 滨江通 is a made-up local app name: jieba does not know it.
    assert "滨江通" not in vocabulary.words("滨江通怎么注册", for_search=False)
    actions.do_add_word(people.admin, "滨江通", now=MONDAY)
    assert "滨江通" in vocabulary.words("滨江通怎么注册", for_search=False)
    article(editor, "滨江通注册指南", body="<p>下载滨江通后用手机号注册。</p>")
    assert _titles(search_articles("滨江通", ArticleFilter(now=MONDAY), limit=5)) == ["滨江通注册指南"]


def test_an_administrators_synonym_group_widens_the_query(people):
    editor = people.team_leader
    article(editor, "电梯困人应急处置", body="<p>电梯故障困人时请拨打电梯内的救援电话。</p>")
    assert search_articles("升降梯坏了", ArticleFilter(now=MONDAY), limit=5) == []
    actions.do_save_synonyms(people.admin, ["电梯", "升降梯"], now=MONDAY)
    assert _titles(search_articles("升降梯坏了", ArticleFilter(now=MONDAY), limit=5)) == ["电梯困人应急处置"]


def test_a_query_of_stop_words_or_punctuation_finds_nothing_and_does_not_crash(people):
    article(people.team_leader, "医保报销流程", body="<p>医保报销。</p>")
    for query in ["", "   ", "请问怎么办？", '"OR" AND (*) NEAR', "' ; DROP TABLE knowledge_article; --"]:
        assert search_articles(query, ArticleFilter(now=MONDAY), limit=5) == []


def test_category_filter_keeps_the_subtree_only(people):
    editor = people.team_leader
    social = actions.do_create_category(editor, "社会保障")
    medical = actions.do_create_category(editor, "医疗保险", parent_id=social.pk)
    housing = actions.do_create_category(editor, "住房")
    article(editor, "医保报销流程", body="<p>医保报销材料。</p>", category=medical.pk)
    article(editor, "公租房医保报销证明", body="<p>申请公租房时的医保报销证明。</p>", category=housing.pk)

    in_social = search_articles("医保报销", ArticleFilter(now=MONDAY, category_path=social.path), limit=5)
    assert _titles(in_social) == ["医保报销流程"]
    everywhere = search_articles("医保报销", ArticleFilter(now=MONDAY), limit=5)
    assert sorted(_titles(everywhere)) == ["公租房医保报销证明", "医保报销流程"]


def test_editing_an_article_reindexes_it(people):
    editor = people.team_leader
    a = article(editor, "燃气安全须知", body="<p>燃气泄漏时开窗通风。</p>")
    assert search_articles("噪声", ArticleFilter(now=MONDAY), limit=5) == []
    actions.do_update_article(editor, a.pk, {"body": "<p>夜间施工噪声投诉渠道。</p>"}, now=MONDAY - dt.timedelta(days=1))
    assert _titles(search_articles("噪声", ArticleFilter(now=MONDAY), limit=5)) == ["燃气安全须知"]
    assert search_articles("泄漏", ArticleFilter(now=MONDAY), limit=5) == []
