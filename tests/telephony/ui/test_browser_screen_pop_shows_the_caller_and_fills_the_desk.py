"""In Chromium against a live server: a call event for the call-taker's extension,
posted the way the PBX posts it (signed, to /api/telephony/cti/events), pops up on
the desk; the button fills the phone field and runs the caller lookup (the citizen's
earlier ticket appears); "answered" links the ticket being typed to the call, and the
saved ticket carries recording_ref "call:<call_id>"."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest

from hotline.cases import actions as case_actions
from hotline.cases.models import Ticket
from hotline.pbx.directory import CallEvent
from hotline.telephony.store import DjangoDirectory
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def send(kind: str, extension: str = "1001") -> None:
    """DjangoDirectory.call_event, as in the PBX process (an event loop of its own)."""
    event = CallEvent(call_id="a84b4c76e66710@pbx", kind=kind, extension=extension, caller="13812341234", callee="12345",
                      at=dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc))
    t = threading.Thread(target=lambda: asyncio.run(DjangoDirectory().call_event(event)))
    t.start()
    t.join(10)


def test_a_ringing_call_pops_up_and_fills_the_phone_field(agents: Any, as_user: Any, live_url: str, settings: Any) -> None:
    settings.HOTLINE_CTI_URL = live_url + "/api/telephony/cti/events"
    earlier = case_actions.do_create_ticket(agents.call_taker, ticket_input(summary="上次来电:东华路路灯不亮"))
    desk = as_user(agents.call_taker)
    other = as_user(agents.other_taker)  # extension 1003: must not see 1001's call
    page = desk.page
    desk.go("/desk/")
    other.go("/desk/")
    page.locator('#screenpop[data-cti-state="open"]').wait_for(state="attached")
    other.page.locator('#screenpop[data-cti-state="open"]').wait_for(state="attached")
    assert not page.locator("#screenpop").is_visible()
    page.get_by_label("诉求摘要", exact=True).fill("正在登记的内容")

    send("ringing")
    page.locator("#screenpop-caller").wait_for()
    assert page.locator("#screenpop-caller").inner_text() == "13812341234"
    desk.shot("desk-screen-pop-ringing")
    page.locator("#screenpop-fill").click()
    assert page.locator("#id_contact_phone").input_value() == "13812341234"
    page.locator("#caller-panel .history").wait_for()
    assert earlier.number in page.locator("#caller-panel").inner_text()
    assert page.get_by_label("诉求摘要", exact=True).input_value() == "正在登记的内容"  # nothing typed is lost

    send("answered")
    page.locator("#screenpop-linked").wait_for()
    assert page.locator('#desk-form [name="recording_ref"]').first.input_value() == "call:a84b4c76e66710@pbx"
    assert not other.page.locator("#screenpop").is_visible()

    page.get_by_label("诉求内容", exact=True).fill("来电人反映东华路路灯仍然不亮,要求尽快维修。")
    page.get_by_label("诉求类型", exact=True).select_option("complaint")
    page.locator("#desk-form button[data-shortcut=save]").click()
    page.wait_for_load_state()
    assert page.locator("#done-number").count() == 1, page.locator(".error").all_inner_texts()
    saved = Ticket.objects.exclude(pk=earlier.pk).get()
    assert saved.recording_ref == "call:a84b4c76e66710@pbx" and saved.contact_phone == "13812341234"


def test_an_agent_without_extension_gets_no_screen_pop(agents: Any, as_user: Any) -> None:
    desk = as_user(agents.dispatcher)
    desk.go("/desk/")
    assert desk.page.locator("#screenpop").count() == 0
