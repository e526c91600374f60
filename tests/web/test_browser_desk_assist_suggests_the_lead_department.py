"""In Chromium: the desk's knowledge assist panel shows the dispatch suggestion (智能分派)
that the assist answer carries — here from an administrator's routing rule for the
category — and "使用" puts the suggested department into the lead-department picker,
so 受理并派单 dispatches the ticket there."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases.models import Status, Ticket
from hotline.knowledge import actions as knowledge_actions

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_suggested_department_fills_the_picker_in_one_click(people: Any, tree: Any, as_user: Any) -> None:
    knowledge_actions.do_save_routing_rule(people.admin, {"category": "water.outage", "department": tree.water.pk})
    desk = as_user(people.call_taker)
    page = desk.page
    # the server process caches routing rules for 5 s (docs/knowledge.md): let a copy
    # read by an earlier test expire before asking
    page.wait_for_timeout(5500)
    desk.go("/desk/")
    panel = page.get_by_role("complementary", name="知识辅助")
    page.get_by_label("联系电话", exact=True).fill("13700003333")
    page.get_by_label("诉求类型", exact=True).select_option("complaint")
    page.get_by_label("诉求分类", exact=True).select_option("water.outage")
    page.get_by_label("诉求内容", exact=True).fill("东华路12号小区从昨天开始停水，一直没有通知。")
    page.get_by_label("诉求摘要", exact=True).fill("东华路12号小区停水")
    suggestion = panel.locator("#assist-suggestion")
    suggestion.get_by_text("市水务局").wait_for()
    assert "按分派规则" in suggestion.inner_text()
    picker = page.get_by_label("主办单位", exact=True)
    assert picker.input_value() == ""
    suggestion.get_by_role("button", name="使用: 市水务局").click()
    assert picker.input_value() == str(tree.water.pk)
    desk.no_horizontal_scroll()
    desk.shot("desk-assist-suggestion")

    page.get_by_role("button", name="受理并派单").click()
    page.locator("#done-query-code").wait_for()
    t = Ticket.objects.get()
    assert t.status == Status.DISPATCHED and t.lead_department_id == tree.water.pk
