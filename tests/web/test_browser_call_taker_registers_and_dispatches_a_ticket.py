"""In Chromium: a call-taker types an appeal on the desk, sees the caller's earlier
ticket and tags, picks category and department by typing, dispatches with
Ctrl+Enter and reads out the query code; a failed save keeps what was typed."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases import actions
from hotline.cases.models import Status, Ticket
from hotline.directory.models import Citizen
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def test_call_taker_registers_and_dispatches_from_the_desk(people: Any, tree: Any, as_user: Any) -> None:
    earlier = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13900001111", summary="上月反映的路灯不亮问题"))
    Citizen.objects.filter(pk=earlier.citizen_id).update(tags=["VIP", "老年人"])
    desk = as_user(people.call_taker)
    page = desk.page
    desk.go("/desk/")
    assert page.title().startswith("受理台")

    # A failed save: no phone, no summary. The errors sit next to the fields, the text stays.
    page.get_by_label("诉求内容", exact=True).fill("东华路与滨江大道路口的红绿灯坏了两天,早晚高峰很拥堵。")
    page.get_by_label("诉求类型", exact=True).select_option("complaint")
    page.keyboard.press("Control+s")
    page.wait_for_load_state()
    assert page.locator("#err-contact_phone").inner_text() == "此项必填"
    assert page.locator("#err-summary").inner_text() == "此项必填"
    assert page.get_by_label("诉求内容", exact=True).input_value().startswith("东华路与滨江大道路口")
    desk.shot("desk-errors")
    assert not Ticket.objects.exclude(pk=earlier.pk).exists()

    # The caller panel shows the earlier ticket and the tags once the phone is typed.
    page.get_by_label("联系电话", exact=True).fill("13900001111")
    page.get_by_label("联系电话", exact=True).press("Tab")
    page.locator("#caller-panel").get_by_text(earlier.number).wait_for()
    assert "VIP" in page.locator("#caller-panel").inner_text()
    page.get_by_label("来电人", exact=True).fill("赵女士")
    page.get_by_label("诉求摘要", exact=True).fill("东华路路口红绿灯故障")
    # Pickers with search: typing narrows the list; one match is selected.
    page.locator('input[data-filter="id_category"]').fill("交通信号")
    assert page.get_by_label("诉求分类", exact=True).input_value() == "transport.signal"
    page.locator('input[data-filter="id_lead_department"]').fill("东华街道")
    assert page.get_by_label("主办单位", exact=True).input_value() == str(tree.donghua.pk)
    page.get_by_label("协办单位", exact=True).select_option(str(tree.water.pk))
    desk.no_horizontal_scroll()
    desk.shot("desk-filled")
    page.keyboard.press("Control+Enter")
    page.locator("#done-query-code").wait_for()

    t = Ticket.objects.exclude(pk=earlier.pk).get()
    assert t.status == Status.DISPATCHED
    assert t.lead_department_id == tree.donghua.pk
    assert list(t.assists.values_list("department_id", flat=True)) == [tree.water.pk]
    assert t.citizen_name == "赵女士" and t.contact_phone == "13900001111"
    assert t.category is not None and t.category.code == "transport.signal"
    assert page.locator("#done-query-code").inner_text() == t.query_code
    assert page.locator("#done-number").inner_text() == t.number
    desk.shot("desk-dispatched")

    # The ticket page shows the dispatch on the timeline.
    page.locator("#done-number").click()
    page.locator("#timeline").get_by_text("派单", exact=True).wait_for()
    assert page.locator("#ticket-lead").inner_text() == "东华街道办事处"
    desk.no_horizontal_scroll()
    desk.shot("ticket-dispatched")


def test_call_taker_resolves_a_consultation_on_the_spot(people: Any, as_user: Any) -> None:
    desk = as_user(people.call_taker)
    page = desk.page
    desk.go("/desk/")
    page.get_by_label("联系电话", exact=True).fill("13700002222")
    page.get_by_label("诉求类型", exact=True).select_option("consult")
    page.get_by_label("诉求摘要", exact=True).fill("咨询居住证办理材料")
    page.get_by_label("诉求内容", exact=True).fill("来电人咨询在滨江市办理居住证需要哪些材料。")
    page.get_by_label("答复内容(直接办结)", exact=True).fill("需身份证、租房合同或房产证明,到居住地派出所办理。")
    page.get_by_role("button", name="直接办结").click()
    page.locator("#done-query-code").wait_for()
    t = Ticket.objects.get()
    assert t.status == Status.RESOLVED and t.result.startswith("需身份证")
