"""Personal reminders (日程提醒): set from the desk or a ticket, listed when due
(the desk polls the panel), marked done by their owner only, audited; bad input
is explained next to the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hotline.audit.models import AuditEntry
from hotline.cases import actions
from hotline.web import actions as web_actions
from hotline.web.models import Reminder
from tests.conftest import PASSWORD, ticket_input

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert c.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return c


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_due_reminder_pops_up_and_is_done_by_its_owner_only(people: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    c = client_for(people.call_taker)
    past = timezone.now() - dt.timedelta(minutes=5)
    r = c.post("/reminders/new/", {"kind": "callback", "due_at": local(past), "text": "回电王先生确认停水是否恢复", "ticket": t.number},
               HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    text = r.content.decode()
    assert 'id="reminders-due"' in text and "回电王先生确认停水是否恢复" in text and t.number in text
    reminder = Reminder.objects.get()
    assert reminder.owner == people.call_taker and reminder.ticket_id == t.pk
    assert AuditEntry.objects.filter(action="reminder.create", actor=people.call_taker).exists()

    # Not someone else's business.
    other = client_for(people.team_leader)
    assert "回电王先生" not in other.get("/reminders/").content.decode()
    assert other.post(f"/reminders/{reminder.pk}/done/").status_code == 404
    assert Reminder.objects.get().done_at is None

    r = c.post(f"/reminders/{reminder.pk}/done/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'id="reminders-due"' not in r.content.decode()
    assert Reminder.objects.get().done_at is not None


def test_a_future_reminder_is_listed_as_upcoming_not_due(people: Any) -> None:
    web_actions.do_create_reminder(people.dispatcher, {"due_at": timezone.now() + dt.timedelta(hours=2), "text": "跟进督办件"}, now=timezone.now())
    text = client_for(people.dispatcher).get("/reminders/").content.decode()
    assert "跟进督办件" in text and 'id="reminders-due"' not in text


def test_bad_reminder_input_is_explained_and_kept(people: Any) -> None:
    c = client_for(people.call_taker)
    r = c.post("/reminders/new/", {"kind": "callback", "due_at": "明天下午", "text": "回电", "ticket": "999999999999"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 422
    text = r.content.decode()
    assert "所选项不存在" in text and 'value="回电"' in text
    r = c.post("/reminders/new/", {"kind": "callback", "due_at": "", "text": ""}, HTTP_HX_REQUEST="true")
    assert r.status_code == 422 and "此项必填" in r.content.decode()
    assert not Reminder.objects.exists()


def test_department_users_cannot_attach_a_reminder_to_a_ticket_they_cannot_see(people: Any, tree: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk)
    r = client_for(people.west_handler).post("/reminders/new/", {"due_at": local(timezone.now()), "text": "看看", "ticket": t.number},
                                              HTTP_HX_REQUEST="true")
    assert r.status_code == 422 and not Reminder.objects.exists()
