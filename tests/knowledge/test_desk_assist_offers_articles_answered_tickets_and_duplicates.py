"""While the call-taker types the appeal, the desk assistant offers the best
articles (with their standard answers), the most similar answered tickets (with
their answers) and probable duplicates; "use this answer" records which article
answered which ticket, and the usage report shows it."""

from __future__ import annotations

import datetime as dt

from hotline.audit.models import AuditEntry
from hotline.cases import actions as cases
from hotline.knowledge import tasks
from hotline.knowledge.models import Article, ArticleUsage, TicketIndex
from django.utils import timezone

from tests.conftest import ticket_input
from tests.knowledge._kb import article

DAY = dt.timedelta(days=1)
#: The API reads the real clock (an entry point), and duplicate checks look back a
#: window from it: this file's tickets are dated relative to the real now.
NOW = timezone.now()

TYPING = {
    "summary": "东华路88号没水了",
    "content": "东华路88号从昨天开始断水，也没有通知，想问什么时候恢复供水",
    "phone": "13900001111",
    "address": "东城区东华路88号",
}


def test_the_assistant_offers_articles_answers_and_duplicates(people, api_as, tree):
    faq = article(people.team_leader, "停水原因查询与恢复供水时间", body="<p>计划停水会提前24小时公告；突发停水可拨打供水热线查询。</p>",
                  answer="您好，突发停水一般在24小时内恢复供水，可拨打供水服务热线0571-86001234查询抢修进度。")
    article(people.team_leader, "居住证办理指南", body="<p>居住证办理材料。</p>")
    answered = cases.do_create_ticket(people.call_taker, ticket_input(
        address="西城区长安街1号", contact_phone="13600003333", summary="长安街1号停水咨询何时恢复供水",
        content="来电人咨询长安街1号停水原因和恢复供水时间。"), now=NOW - 10 * DAY)
    cases.do_resolve_on_spot(answered.pk, people.call_taker, "已告知：长安街供水管网抢修，预计当晚20时恢复供水。", now=NOW - 10 * DAY)
    open_one = cases.do_create_ticket(people.call_taker, ticket_input(), now=NOW - DAY)

    r = api_as(people.call_taker).post("/knowledge/assist", TYPING)
    assert r.status_code == 200, r.json_body
    body = r.json_body
    assert body["articles"][0]["id"] == faq.pk
    assert body["articles"][0]["answer"].startswith("您好，突发停水")
    assert [t["number"] for t in body["similar_tickets"]] == [answered.number]
    assert body["similar_tickets"][0]["result"].startswith("已告知：长安街供水管网抢修")
    assert [d["number"] for d in body["duplicates"]] == [open_one.number]
    assert body["duplicates"][0]["same_address"] and 0 < body["duplicates"][0]["similarity"] <= 1
    assert body["suggestion"]["source"] in ("none", "model", "rule")


def test_a_ticket_closed_later_becomes_a_similar_case_after_the_periodic_job(people, api_as):
    t = cases.do_create_ticket(people.call_taker, ticket_input(), now=NOW - 3 * DAY)
    api_as(people.call_taker).post("/knowledge/duplicates", {"ticket": t.number})  # indexes it, unanswered
    assert TicketIndex.objects.get(ticket_id=t.pk).answered is False
    cases.do_resolve_on_spot(t.pk, people.call_taker, "已告知停水原因为管道抢修，当晚恢复。", now=NOW - 3 * DAY)
    assert api_as(people.call_taker).post("/knowledge/assist", TYPING).json_body["similar_tickets"] == []
    result = tasks.knowledge_job.call()
    assert result["indexed"] >= 1
    assert TicketIndex.objects.get(ticket_id=t.pk).answered is True
    similar = api_as(people.call_taker).post("/knowledge/assist", TYPING).json_body["similar_tickets"]
    assert [s["number"] for s in similar] == [t.number]


def test_using_an_answer_is_recorded_counted_audited_and_reported(people, api_as):
    faq = article(people.team_leader, "停水原因查询", answer="突发停水一般在24小时内恢复。")
    t = cases.do_create_ticket(people.call_taker, ticket_input(), now=NOW)
    desk = api_as(people.call_taker)
    r = desk.post(f"/knowledge/articles/{faq.pk}/usage", {"ticket": t.number, "kind": "answer", "query": "停水"})
    assert r.status_code == 201, r.json_body
    desk.post(f"/knowledge/articles/{faq.pk}/usage", {"kind": "view"})
    assert ArticleUsage.objects.filter(article=faq, ticket=t, kind="answer").count() == 1
    assert Article.objects.get(pk=faq.pk).use_count == 1  # views do not count as answers
    assert AuditEntry.objects.filter(action="article.use", object_id=str(faq.pk)).count() == 2
    report = api_as(people.team_leader).get("/knowledge/usage").json_body
    assert report["items"] == [{"article": faq.pk, "title": "停水原因查询", "uses": 2, "answers": 1, "tickets": 1}]
    # Department users may not record usage, and nobody may record it for a ticket they cannot see.
    assert api_as(people.handler).post(f"/knowledge/articles/{faq.pk}/usage", {"kind": "answer"}).status_code == 403
    assert desk.post(f"/knowledge/articles/{faq.pk}/usage", {"ticket": "999999"}).status_code == 404
