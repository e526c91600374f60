"""In Chromium: a message next to a field ("此项必填", ...) is about what was typed
before the failed save; once the user changes that field the message and the red
frame go, the other fields' messages stay, and the "not saved" banner goes with the
last one. Checked on the desk, a ticket action, the ticket edit form, an
administration form and the portal."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases import actions
from hotline.cases.models import Ticket
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def red(page: Any, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "el => getComputedStyle(el).borderTopColor === 'rgb(198, 40, 40)'"))


def test_desk_errors_go_field_by_field_as_the_user_corrects(people: Any, as_user: Any) -> None:
    s = as_user(people.call_taker)
    page = s.page
    s.go("/desk/")
    page.get_by_role("button", name="保存受理").click()
    page.wait_for_load_state()
    for name in ("contact_phone", "summary", "content", "service_type"):
        assert page.locator(f"#err-{name}").count() == 1, name
    assert red(page, "#id_summary")
    banner = page.locator("p.error.banner")
    assert banner.is_visible()
    s.shot("desk-required-errors")

    page.get_by_label("联系电话", exact=True).fill("13812345678")
    assert page.locator("#err-contact_phone").count() == 0
    assert page.locator("#err-summary").inner_text() == "此项必填"  # untouched fields keep theirs
    page.get_by_label("诉求摘要", exact=True).fill("小区路灯不亮")
    assert page.locator("#err-summary").count() == 0 and not red(page, "#id_summary")
    page.get_by_label("诉求内容", exact=True).fill("东华路88号小区内路灯一周未亮。")
    assert banner.is_visible()
    page.get_by_label("诉求类型", exact=True).select_option("complaint")
    assert page.locator("#err-service_type").count() == 0
    assert not banner.is_visible()
    s.shot("desk-errors-cleared")
    page.get_by_role("button", name="保存受理").click()
    page.locator("#done-query-code").wait_for()
    assert Ticket.objects.get().summary == "小区路灯不亮"


def test_ticket_action_and_edit_errors_go_once_corrected(people: Any, tree: Any, as_user: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    s = as_user(people.call_taker)
    page = s.page
    s.go(f"/tickets/{t.pk}/")

    # an action form: 不予受理 needs a reason
    page.locator("#action-not_accept summary").click()
    page.locator("#action-not_accept").get_by_role("button", name="不予受理").click()
    page.wait_for_load_state()
    assert page.locator("#err-not_accept-comment").inner_text() == "此项必填"
    page.locator("#not_accept-comment").fill("重复来电")
    assert page.locator("#err-not_accept-comment").count() == 0

    # the edit form
    s.go(f"/tickets/{t.pk}/")
    page.locator("#open-edit").click()
    page.locator("#edit_summary").fill("")
    page.locator("#edit_contact_phone").fill("12ab")
    page.locator("#edit-save").click()
    page.wait_for_load_state()
    assert page.locator("#err-summary").inner_text() == "此项必填"
    assert page.locator("#err-contact_phone").inner_text() == "电话号码应为5-20位数字"
    assert page.locator("#edit_contact_phone").input_value() == "12ab"
    s.shot("ticket-edit-errors")
    page.locator("#edit_summary").fill("东华路88号小区停水三天")
    assert page.locator("#err-summary").count() == 0 and page.locator("#err-contact_phone").count() == 1
    page.locator("#edit_contact_phone").fill("13812341234")
    assert page.locator("#err-contact_phone").count() == 0
    page.locator("#edit-save").click()
    page.get_by_text("已保存修改").wait_for()
    assert page.locator("#ticket-summary").inner_text() == "东华路88号小区停水三天"


def test_admin_and_portal_errors_go_once_corrected(people: Any, tree: Any, as_user: Any) -> None:
    admin = as_user(people.admin)
    page = admin.page
    admin.go("/manage/users/")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    assert page.locator("#err-username").count() == 1
    page.locator("#u-username").fill("new_clerk")
    assert page.locator("#err-username").count() == 0
    assert page.locator("#err-role").count() == 1

    citizen = as_user(None)
    page = citizen.page
    citizen.go("/portal/")
    form = page.locator("#portal-form")
    form.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    phone_box = page.locator("#p-phone").locator("xpath=..")
    assert phone_box.locator("p.error").count() == 1
    page.locator("#p-phone").fill("13512345678")
    assert phone_box.locator("p.error").count() == 0
    assert page.locator("#p-summary").locator("xpath=..").locator("p.error").count() == 1
