"""In Chromium: while a call-taker types an appeal on the desk, the knowledge assist
panel shows the matching published article with its standard answer; "采用答复"
copies that answer into the resolve-on-the-spot result field, and the saved ticket is
recorded as answered by that article (which article answered which ticket)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases.models import Status, Ticket
from hotline.knowledge.models import ArticleUsage, UsageKind
from tests.knowledge._kb import article

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "居住证办理需携带身份证、租房合同和一寸照片,到居住地派出所办理,五个工作日内领取。"


def test_desk_assist_offers_the_article_and_copies_its_answer(people: Any, as_user: Any) -> None:
    a = article(people.team_leader, "居住证办理材料", body="办理居住证需要哪些材料", answer=ANSWER, keywords="居住证")
    other = article(people.team_leader, "犬只登记办法", body="养犬登记", answer="携犬只到畜牧站登记。")
    desk = as_user(people.call_taker)
    page = desk.page
    desk.go("/desk/")
    panel = page.get_by_role("complementary", name="知识辅助")
    # Fewer than four characters: nothing is asked.
    page.get_by_label("诉求摘要", exact=True).fill("居住")
    page.wait_for_timeout(700)
    assert panel.locator("#assist-articles").count() == 0

    page.get_by_label("诉求摘要", exact=True).fill("咨询居住证办理材料")
    articles = panel.locator("#assist-articles")
    articles.get_by_text("居住证办理材料").wait_for()
    assert "身份证" in articles.inner_text()
    assert other.title not in articles.inner_text()
    desk.no_horizontal_scroll()
    desk.shot("desk-assist")

    assert page.get_by_label("答复内容(直接办结)", exact=True).input_value() == ""
    articles.get_by_role("button", name="采用答复: 居住证办理材料").click()
    assert page.get_by_label("答复内容(直接办结)", exact=True).input_value() == ANSWER
    desk.shot("desk-assist-adopted")
    assert not ArticleUsage.objects.exists(), "nothing is recorded before the ticket is saved"

    page.get_by_label("联系电话", exact=True).fill("13700002222")
    page.get_by_label("诉求类型", exact=True).select_option("consult")
    page.get_by_label("诉求内容", exact=True).fill("来电人咨询在滨江市办理居住证需要哪些材料。")
    page.get_by_role("button", name="直接办结").click()
    page.locator("#done-query-code").wait_for()
    t = Ticket.objects.get()
    assert t.status == Status.RESOLVED and t.result == ANSWER
    u = ArticleUsage.objects.get(article=a)
    assert u.kind == UsageKind.ANSWER and u.user_id == people.call_taker.pk and u.ticket_id == t.pk
    assert "居住证" in u.query
    assert not ArticleUsage.objects.filter(article=other).exists()


def test_desk_assist_shows_a_probable_duplicate_with_its_score(people: Any, as_user: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from hotline.cases import actions as cases
    from tests.conftest import ticket_input

    # the duplicate check looks back a window from the real clock (the API is an entry point)
    open_one = cases.do_create_ticket(people.call_taker, ticket_input(), now=timezone.now() - dt.timedelta(days=1))
    desk = as_user(people.call_taker)
    page = desk.page
    desk.go("/desk/")
    page.get_by_label("联系电话", exact=True).fill("13812341234")
    page.get_by_label("地址", exact=True).fill("东城区东华路88号")
    page.get_by_label("诉求摘要", exact=True).fill("东华路88号没水了")
    page.get_by_label("诉求内容", exact=True).fill("东华路88号从昨天开始断水，也没有通知，想问什么时候恢复供水")
    dups = page.locator("#assist-duplicates")
    dups.get_by_role("link", name=open_one.number).wait_for()
    text = dups.inner_text()
    assert "%" in text and "同一地址" in text
    assert dups.get_by_role("link", name=open_one.number).get_attribute("href") == f"/tickets/{open_one.number}/"
    desk.shot("desk-assist-duplicate")
