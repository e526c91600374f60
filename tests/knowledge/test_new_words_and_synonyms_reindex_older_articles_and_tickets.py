"""After administrators add a dictionary word or a synonym group, text saved
earlier is re-segmented: the change queues ``reindex_knowledge`` (after commit) and
the worker (django-tasks-db's ``db_worker``, run for real) re-indexes the articles
and tickets that hold the changed words. ``hotline reindex-knowledge`` does the
same on demand.

Transactional tests: the task is queued on commit and the worker runs it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult

from hotline.cases import actions as cases
from hotline.knowledge import actions, reindex, similar, tasks
from hotline.knowledge.models import Article, TicketIndex
from hotline.knowledge.search import ArticleFilter, search_articles
from tests.conftest import MONDAY, ticket_input
from tests.knowledge._kb import article

pytestmark = pytest.mark.django_db(transaction=True)


def _titles(text: str) -> list[str]:
    return sorted(r.article.title for r in search_articles(text, ArticleFilter(now=MONDAY), limit=10))


def _run_worker() -> None:
    call_command("db_worker", batch=True, stdout=io.StringIO(), stderr=io.StringIO())


def _reindex_runs() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=tasks.reindex_knowledge.module_path).order_by("enqueued_at"))


def test_a_new_word_makes_an_older_article_match_it_as_a_word(people):
    editor = people.team_leader
    old = article(editor, "手机办事指南", body="<p>下载滨江通后用手机号注册，即可在线办理。</p>")
    article(editor, "燃气安全须知", body="<p>燃气泄漏时开窗通风。</p>")
    # Before the word exists, 滨江通 is only found through its piece 滨江.
    assert "滨江通" not in old.search_body.split() and "滨江" in old.search_body.split()

    actions.do_add_word(people.admin, "滨江通", now=MONDAY)
    # The query is now one word the older article was never indexed with.
    assert _titles("滨江通") == []
    [queued] = _reindex_runs()
    assert queued.status == "READY" and queued.args_kwargs["args"][0] == ["滨江通"]

    _run_worker()
    [done] = _reindex_runs()
    assert done.status == "SUCCESSFUL", done.traceback
    # Only the article holding the word was looked at, and it was re-indexed.
    assert done.return_value["articles_seen"] == 1 and done.return_value["articles_changed"] == 1
    assert "滨江通" in Article.objects.get(pk=old.pk).search_body.split()
    assert _titles("滨江通") == ["手机办事指南"]


def test_a_new_synonym_group_reaches_older_articles_and_the_duplicate_index(people):
    editor = people.team_leader
    article(editor, "政务App使用说明", body="<p>市民云可以查询社保缴费记录。</p>")
    ticket = cases.do_create_ticket(people.call_taker, ticket_input(
        summary="市民云登录不上", content="来电人反映市民云App登录一直失败，无法查询社保。"), now=MONDAY)
    similar.sync_index(now=MONDAY)
    assert "滨江通" not in TicketIndex.objects.get(ticket_id=ticket.pk).tokens.split()

    actions.do_save_synonyms(people.admin, ["滨江通", "市民云"], now=MONDAY)
    assert _titles("滨江通怎么用") == []  # older article: 市民 + 云, not 市民云

    _run_worker()
    assert [r.status for r in _reindex_runs()] == ["SUCCESSFUL"]
    # The query word expands to its synonym, which the article now holds as a word.
    assert _titles("滨江通怎么用") == ["政务App使用说明"]
    # The ticket index folds the group to one word, so a 滨江通 repeat scores as the same appeal.
    assert "滨江通" in TicketIndex.objects.get(ticket_id=ticket.pk).tokens.split()
    repeat = {"summary": "滨江通登录不上", "content": "滨江通App登录一直失败，无法查询社保。", "address": "", "phone": "13500000000"}
    found = {c.ticket_id: c for c in similar.find_duplicates(repeat, now=MONDAY, include_unlikely=True)}
    assert ticket.pk in found and found[ticket.pk].similarity >= 0.6


def test_a_long_reindex_runs_in_slices_that_queue_their_continuation(people, monkeypatch):
    editor = people.team_leader
    for name in ["一", "二", "三"]:
        article(editor, f"滨江通指南{name}", body="<p>滨江通注册与登录。</p>")
    monkeypatch.setattr(reindex, "BATCH", 1)
    monkeypatch.setattr(reindex, "TASK_SECONDS", 0.0)  # one batch per run
    actions.do_add_word(people.admin, "滨江通", now=MONDAY)
    _run_worker()
    runs = _reindex_runs()
    assert len(runs) >= 3 and all(r.status == "SUCCESSFUL" for r in runs)
    assert runs[-1].return_value["finished"] is True
    assert _titles("滨江通") == ["滨江通指南一", "滨江通指南三", "滨江通指南二"]


def test_the_command_reindexes_on_demand_and_refuses_bad_options(people):
    editor = people.team_leader
    article(editor, "手机办事指南", body="<p>下载滨江通后用手机号注册。</p>")
    article(editor, "燃气安全须知", body="<p>燃气泄漏时开窗通风。</p>")
    actions.do_add_word(people.admin, "滨江通", now=MONDAY)
    DBTaskResult.objects.all().delete()  # not the worker this time: the command
    assert _titles("滨江通") == []

    out = io.StringIO()
    call_command("reindex_knowledge", "--no-tickets", stdout=out)
    assert "articles 1 of 2 checked" in out.getvalue()
    assert _titles("滨江通") == ["手机办事指南"]

    for bad in (["--words", "滨江 通;"], ["--tickets-since-days", "0"]):
        with pytest.raises(CommandError):
            call_command("reindex_knowledge", *bad, stdout=io.StringIO())
