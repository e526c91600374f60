"""In Chromium, the middle of a ticket's life: the department signs for it from its
workbench, asks for an extension (the dispatcher approves it), replies with an
attachment; the center approves the reply, records a dissatisfied callback, and
the ticket is reopened back to the department."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from hotline.cases import actions
from hotline.cases.models import ExtensionStatus, Satisfaction, Status, Ticket
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(50)


def open_action(page: Any, name: str) -> Any:
    box = page.locator(f"#action-{name}")
    box.locator("summary").click()
    return box


def test_department_handles_then_center_reviews_calls_back_and_reopens(people: Any, tree: Any, as_user: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk)
    t.refresh_from_db()
    assert t.deadline is not None
    new_date = timezone.localtime(t.deadline).date() + dt.timedelta(days=10)

    # 1. The handler finds it on My work and signs for it on the department workbench.
    dept = as_user(people.handler)
    page = dept.page
    dept.go("/work/")
    assert page.locator("#wl-to_sign .count").inner_text() == "1"
    page.locator("#wl-to_sign").click()
    page.get_by_role("link", name=t.number).wait_for()
    dept.no_horizontal_scroll()
    dept.shot("work-department-to-sign")
    dept.go("/dept/")
    dept.shot("dept-workbench")
    page.get_by_role("row").filter(has_text=t.number).get_by_role("button", name="签收").click()
    page.get_by_text("已完成:签收").wait_for()
    assert Ticket.objects.get(pk=t.pk).status == Status.SIGNED

    # 2. An extension request from the ticket page.
    dept.go(f"/tickets/{t.pk}/")
    box = open_action(page, "request_extension")
    box.get_by_label("申请延期至", exact=True).fill(new_date.isoformat())
    box.get_by_label("延期理由", exact=True).fill("涉及供水管网改造,需协调市水务局施工。")
    box.get_by_role("button", name="申请延期").click()
    page.locator("#pending-extension").wait_for()
    dept.shot("ticket-extension-requested")

    # 3. The dispatcher decides it from the "extension requests" list.
    center = as_user(people.dispatcher)
    cpage = center.page
    center.go("/work/?list=extensions")
    cpage.get_by_role("link", name=t.number).click()
    open_action(cpage, "approve_extension").get_by_role("button", name="同意延期").click()
    cpage.get_by_text("已完成:同意延期").wait_for()
    assert t.extension_requests.get().status == ExtensionStatus.APPROVED
    assert timezone.localtime(Ticket.objects.get(pk=t.pk).deadline).date() == new_date

    # 4. The department replies with an attachment; an empty reply is refused in place.
    dept.go(f"/tickets/{t.pk}/")
    box = open_action(page, "reply")
    box.get_by_role("button", name="回复").click()
    page.locator("#err-reply-result").wait_for()
    assert page.locator("#err-reply-result").inner_text() == "此项必填"
    box = page.locator("#action-reply")
    box.get_by_label("办理结果", exact=True).fill("已协调水务局抢修,11月27日恢复供水,并要求物业今后提前公告。")
    box.get_by_label("附件", exact=True).set_input_files({"name": "现场照片.png", "mimeType": "image/png", "buffer": PNG})
    box.get_by_role("button", name="回复").click()
    page.get_by_text("已完成:回复").wait_for()
    page.get_by_role("link", name="现场照片.png").wait_for()
    assert Ticket.objects.get(pk=t.pk).status == Status.REPLIED
    dept.shot("ticket-replied")

    # 5. The center approves the reply, 6. a call-taker records a dissatisfied callback.
    center.go("/work/?list=to_review")
    cpage.get_by_role("link", name=t.number).click()
    open_action(cpage, "approve_reply").get_by_role("button", name="审核通过").click()
    cpage.get_by_text("已完成:审核通过").wait_for()
    taker = as_user(people.call_taker)
    tpage = taker.page
    taker.go("/work/?list=to_callback")
    tpage.get_by_role("link", name=t.number).click()
    box = open_action(tpage, "callback")
    box.get_by_label("满意度", exact=True).select_option(Satisfaction.DISSATISFIED)
    box.get_by_label("回访记录", exact=True).fill("来电人表示停水期间无人告知,仍不满意。")
    box.get_by_role("button", name="回访").click()
    tpage.get_by_text("已完成:回访").wait_for()
    assert Ticket.objects.get(pk=t.pk).satisfaction == Satisfaction.DISSATISFIED

    # 7. The ticket is reopened to the department, with the reason on the timeline.
    center.go(f"/tickets/{t.pk}/")
    box = open_action(cpage, "reopen")
    box.get_by_role("button", name="重办").click()
    cpage.locator("#err-reopen-comment").wait_for()  # a reason is required
    cpage.locator("#action-reopen").get_by_label("重办理由", exact=True).fill("回访不满意:请承办单位说明停水通知情况并整改。")
    cpage.locator("#action-reopen").get_by_role("button", name="重办").click()
    cpage.get_by_text("已完成:重办").wait_for()
    t.refresh_from_db()
    assert t.status == Status.HANDLING and t.reopen_count == 1 and t.lead_department_id == tree.donghua.pk
    assert "回访不满意:请承办单位说明" in cpage.locator("#timeline").inner_text()
    center.no_horizontal_scroll()
    center.shot("ticket-reopened")
    dept.go("/work/?list=to_handle")
    page.get_by_role("link", name=t.number).wait_for()
