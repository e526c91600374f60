"""In Chromium, without logging in: a citizen submits an appeal on the portal (a
wrong captcha keeps what was typed), gets a query code that works at once, and
follows the ticket's progress; the lookup shows status, department and the
reviewed reply only, and a wrong phone tail shows nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hotline.cases import actions
from hotline.cases.models import Status, Ticket
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def solve(question: str) -> str:
    a, b = map(int, re.findall(r"\d+", question)[:2])
    return str(a + b)


def test_citizen_submits_and_follows_progress_by_query_code(people: Any, tree: Any, as_user: Any) -> None:
    other = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13600009999", summary="别人的诉求"))
    citizen = as_user(None)
    page = citizen.page
    citizen.go("/portal/")
    form = page.locator("#portal-form")
    form.get_by_label("联系电话", exact=True).fill("13512345678")
    form.get_by_label("姓名(可不填)", exact=True).fill("陈先生")
    form.get_by_label("诉求类型", exact=True).select_option("complaint")
    form.get_by_label("标题", exact=True).fill("滨江花园小区夜间施工噪音扰民")
    form.get_by_label("诉求内容", exact=True).fill("滨江花园三期工地每天晚上11点后仍在施工,噪音很大,影响休息。")
    page.locator("#p-captcha").fill("999")  # wrong on purpose
    form.get_by_role("button", name="提交").click()
    page.get_by_text("验证码不正确").wait_for()
    assert form.get_by_label("标题", exact=True).input_value() == "滨江花园小区夜间施工噪音扰民"
    assert not Ticket.objects.filter(contact_phone="13512345678").exists()
    citizen.shot("portal-captcha-error")

    page.locator("#p-captcha").fill(solve(page.locator("#captcha-question").inner_text()))
    form.get_by_role("button", name="提交").click()
    page.locator("#portal-query-code").wait_for()
    t = Ticket.objects.get(contact_phone="13512345678")
    assert t.status == Status.DRAFT and t.source.code == "web" and t.citizen_name == "陈先生"
    assert page.locator("#portal-query-code").inner_text() == t.query_code
    citizen.shot("portal-submitted")

    # The code works at once.
    page.locator("#track-now").click()
    page.get_by_label("联系电话后四位", exact=True).fill("5678")
    page.get_by_role("button", name="查询").click()
    assert page.locator("#track-status").inner_text() == "已提交,等待受理"

    # Staff register and dispatch it; the citizen sees the department, not the reply yet.
    actions.do_register(t.pk, people.call_taker)
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk)
    actions.do_sign_for(t.pk, people.handler)
    actions.do_reply(t.pk, people.handler, "已责令施工单位夜间22点后停止高噪声作业。")
    page.reload()
    assert page.locator("#track-status").inner_text() == "承办单位已答复,中心审核中"
    assert page.locator("#track-department").inner_text() == "东华街道办事处"
    assert page.locator("#track-reply").count() == 0
    actions.do_approve_reply(t.pk, people.dispatcher)
    page.reload()
    assert page.locator("#track-reply").inner_text().startswith("已责令施工单位")
    text = page.locator("#track-result").inner_text()
    assert "13512345678" not in text and "陈先生" not in text
    citizen.no_horizontal_scroll()
    citizen.shot("portal-track")

    # Another citizen's code with the wrong phone tail shows nothing about it.
    citizen.go(f"/portal/track/?code={other.query_code}&phone_tail=5678")
    page.get_by_text("查询码或电话不正确").wait_for()
    assert page.locator("#track-result").count() == 0
    assert "别人的诉求" not in page.content()
