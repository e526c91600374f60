"""In Chromium: a reminder whose time has come pops up on the call-taker's desk
without any click (the panel loads and polls), and "已办" clears it in place,
leaving what was typed in the desk form untouched."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from hotline.web import actions as web_actions
from hotline.web.models import Reminder

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_due_reminder_pops_up_on_the_desk_and_is_cleared_in_place(people: Any, as_user: Any) -> None:
    now = timezone.now()
    web_actions.do_create_reminder(people.call_taker, {"kind": "callback", "due_at": now - dt.timedelta(minutes=1),
                                                       "text": "15:00回电赵女士,告知红绿灯维修进度"}, now=now)
    desk = as_user(people.call_taker)
    page = desk.page
    desk.go("/desk/")
    page.get_by_label("诉求摘要", exact=True).fill("正在登记的内容")
    popup = page.locator("#reminders-due")
    popup.wait_for()
    assert "回电赵女士" in popup.inner_text()
    desk.shot("desk-reminder-due")
    popup.get_by_role("button", name="已办").click()
    popup.wait_for(state="detached")
    assert Reminder.objects.get().done_at is not None
    assert page.get_by_label("诉求摘要", exact=True).input_value() == "正在登记的内容"
