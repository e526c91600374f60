"""The public portal: a captcha answer works once, a phone number is required,
and one client address may submit only HOTLINE_PORTAL_SUBMITS_PER_HOUR appeals an
hour (counted from the audit log, so every web process shares the count)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from hotline.accounts import actions as account_actions
from hotline.accounts.actions import LoginFailed
from hotline.cases.models import Status, Ticket
from hotline.web.portal import PORTAL_USERNAME

pytestmark = pytest.mark.django_db

APPEAL = {"contact_phone": "13512345678", "service_type": "complaint", "summary": "夜间施工噪音", "content": "工地每晚11点后仍在施工。"}


def answer(client: Client) -> str:
    text = client.get("/portal/").content.decode()
    a, b = map(int, re.search(r'id="captcha-question">(\d+) \+ (\d+)', text).groups())  # type: ignore[union-attr]
    return str(a + b)


def test_a_captcha_answer_is_single_use_and_a_wrong_one_is_refused(dictionary: Any) -> None:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN", REMOTE_ADDR="10.9.8.7")
    r = c.post("/portal/submit/", {**APPEAL, "captcha": "abc"})
    assert r.status_code == 422 and "验证码不正确" in r.content.decode()
    good = answer(c)
    assert c.post("/portal/submit/", {**APPEAL, "captcha": good}).status_code == 200
    assert c.post("/portal/submit/", {**APPEAL, "captcha": good}).status_code == 422  # replayed
    assert Ticket.objects.count() == 1
    t = Ticket.objects.get()
    assert t.status == Status.DRAFT and t.registered_by.username == PORTAL_USERNAME


def test_the_phone_number_is_required(dictionary: Any) -> None:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN", REMOTE_ADDR="10.9.8.7")
    r = c.post("/portal/submit/", {**APPEAL, "contact_phone": "", "captcha": answer(c)})
    assert r.status_code == 422 and "此项必填" in r.content.decode()
    assert not Ticket.objects.exists()


def test_one_address_may_submit_only_so_many_appeals_an_hour(dictionary: Any, settings: Any) -> None:
    settings.HOTLINE_PORTAL_SUBMITS_PER_HOUR = 2
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN", REMOTE_ADDR="10.9.8.7")
    for _ in range(2):
        assert c.post("/portal/submit/", {**APPEAL, "captcha": answer(c)}).status_code == 200
    r = c.post("/portal/submit/", {**APPEAL, "captcha": answer(c)})
    assert r.status_code == 422 and "提交过于频繁" in r.content.decode()
    other = Client(HTTP_ACCEPT_LANGUAGE="zh-CN", REMOTE_ADDR="10.9.8.8")
    assert other.post("/portal/submit/", {**APPEAL, "captcha": answer(other)}).status_code == 200
    assert Ticket.objects.count() == 3


def test_the_portal_account_cannot_log_in(dictionary: Any) -> None:
    c = Client(REMOTE_ADDR="10.9.8.7")
    c.post("/portal/submit/", {**APPEAL, "captcha": answer(c)})
    with pytest.raises(LoginFailed):
        account_actions.do_login(PORTAL_USERNAME, "anything")
