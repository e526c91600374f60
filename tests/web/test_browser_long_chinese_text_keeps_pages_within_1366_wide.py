"""In Chromium at 1366×768: tickets, departments and knowledge articles with very
long Chinese text (no spaces to break at) do not push any page wider than the
screen — lists, ticket page with its edit form and action panel, department
workbench, search, desk caller panel, portal lookup and article pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from hotline.cases import actions
from hotline.directory.models import Department
from hotline.knowledge.search import SearchEngine, vocabulary
from tests.conftest import ticket_input
from tests.knowledge._kb import article

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "东华路与滨江大道交叉口东北角滨江花园三期小区北门外人行道上" * 6  # 174 characters, no break opportunity but CJK


def right_edges_fit(s: Any) -> None:
    s.no_horizontal_scroll()
    overflow = s.page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
        .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > window.innerWidth + 1; })
        .slice(0, 5).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))""")
    assert overflow == [], (s.page.url, overflow)


def test_long_chinese_text_fits_every_page(people: Any, tree: Any, as_user: Any) -> None:
    vocabulary.invalidate()
    SearchEngine._df.clear()
    Department.objects.filter(pk=tree.donghua.pk).update(name="滨江市东城区东华街道办事处综合行政执法与城市管理服务中心(网格化管理指挥分中心)")
    registered = actions.do_create_ticket(people.call_taker, ticket_input(
        summary=LONG[:200], content=LONG * 10, address=LONG[:250], citizen_name="欧阳" + "慕容" * 20, contact_phone="13912345678"))
    t = actions.do_create_ticket(people.call_taker, ticket_input(summary=LONG[:200], content=LONG * 5, address=LONG[:250]))
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk, [tree.water.pk], comment=LONG)
    actions.do_sign_for(t.pk, people.handler, comment=LONG)
    kb = article(people.team_leader, "居住证" + LONG[:150], answer=LONG * 3, body=f"<p>{LONG * 4}</p>", visibility="public",
                 now=timezone.now() - dt.timedelta(days=1))

    s = as_user(people.call_taker)
    for path, shot in ((f"/tickets/{registered.pk}/", "long-text-ticket-registered"), ("/work/?list=returned", None),
                       ("/search/?q=" + LONG[:6], "long-text-search"), ("/desk/?phone=13912345678", "long-text-desk")):
        s.go(path)
        s.page.wait_for_load_state("networkidle")
        s.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        right_edges_fit(s)
        if shot:
            s.shot(shot)
    h = as_user(people.handler)
    for path, shot in (("/dept/?tab=handling", "long-text-dept"), ("/work/?list=to_handle", "long-text-work"),
                       (f"/tickets/{t.pk}/", "long-text-ticket-handling")):
        h.go(path)
        h.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        right_edges_fit(h)
        h.shot(shot)
    citizen = as_user(None)
    for path, shot in ((f"/portal/track/?code={t.query_code}&phone_tail={t.contact_phone[-4:]}", "long-text-portal-track"),
                       ("/portal/knowledge/?q=居住证", "long-text-portal-knowledge"), (f"/portal/knowledge/{kb.pk}/", "long-text-portal-article")):
        citizen.go(path)
        right_edges_fit(citizen)
        citizen.shot(shot)
    assert citizen.page.locator("#kb-article-title").inner_text().startswith("居住证")
