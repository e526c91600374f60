"""The ticket page reads like a record for people: the call a ticket was registered
from shows as when it came in and how long it lasted (not the SIP Call-ID the
screen-pop stored), and the timeline's 同意延期 entry names the new deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hotline.cases import actions
from tests.conftest import ticket_input
from tests.telephony.conftest import make_call

pytestmark = pytest.mark.django_db

CALL_ID = "a84bc93f11d2e07a@10.0.0.1"


def _page(user: Any, ticket: Any) -> str:
    c = Client()
    c.force_login(user)
    r = c.get(f"/tickets/{ticket.pk}/")
    assert r.status_code == 200
    return r.content.decode()


def _recording_cell(html: str) -> str:
    start = html.index('id="ticket-recording"')
    return html[start:html.index("</dd>", start)]


def test_the_call_shows_its_time_and_length_not_its_call_id(people: Any) -> None:
    call = make_call(CALL_ID, recorded=False)
    t = actions.do_create_ticket(people.call_taker, ticket_input(recording_ref=f"call:{CALL_ID}"))
    cell = _recording_cell(_page(people.call_taker, t))
    assert timezone.localtime(call.offered_at).strftime("%Y-%m-%d %H:%M:%S") in cell
    assert "1:00" in cell  # 60 seconds
    assert CALL_ID not in cell and "call:" not in cell


def test_before_the_call_record_exists_a_short_reference_is_shown(people: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input(recording_ref=f"call:{CALL_ID}"))
    cell = _recording_cell(_page(people.call_taker, t))
    assert "a84bc93f" in cell and "话单尚未生成" in cell
    assert CALL_ID not in cell


def test_a_ticket_without_a_call_has_no_call_line(people: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    assert 'id="ticket-recording"' not in _page(people.call_taker, t)


def test_the_approved_extension_shows_the_new_deadline_in_the_timeline(people: Any, tree: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk, [])
    actions.do_sign_for(t.pk, people.handler)
    day = (timezone.localtime(timezone.now()) + dt.timedelta(days=40)).date()
    actions.do_request_extension(t.pk, people.handler, day, "需要协调多个部门")
    html = _page(people.dispatcher, t)
    assert f"申请延期至 {day:%Y-%m-%d}" in html
    actions.do_decide_extension(t.pk, people.dispatcher, True, comment="同意")
    t.refresh_from_db()
    html = _page(people.dispatcher, t)
    new = timezone.localtime(t.deadline)
    assert new.date() == day
    timeline = html[html.index('id="timeline"'):]
    assert f"新办理时限:{new:%Y-%m-%d %H:%M}" in timeline
