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
