"""The desk's hidden ``recording_ref`` (set to "call:<call id>" by the telephony
screen-pop) is saved on the ticket; a malformed or too long one is refused next to
the form with nothing saved and everything typed kept."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases.models import Ticket
from tests.conftest import ticket_input
from tests.web.test_pages_render_for_every_role_and_keep_typed_input import client_for

pytestmark = pytest.mark.django_db


def test_the_desk_form_carries_a_hidden_recording_ref_input(people: Any) -> None:
    text = client_for(people.call_taker).get("/desk/").content.decode()
    assert 'type="hidden" name="recording_ref"' in text and 'id="id_recording_ref"' in text


@pytest.mark.parametrize("ref", ["call:a1B2.c3-d4_e5@pbx1", "call:%7B!~+/{x}[y]?'a'(b)<c>:\\\"q\"@carrier.example"])
def test_a_call_reference_is_saved_on_the_registered_ticket(people: Any, ref: str) -> None:
    """Any RFC 3261 Call-ID a carrier may send is accepted (and escaped where shown)."""
    c = client_for(people.call_taker)
    r = c.post("/desk/", {**ticket_input(), "op": "save", "recording_ref": ref})
    assert r.status_code == 302, r.content.decode()[:1500]
    assert Ticket.objects.get().recording_ref == ref


def test_without_a_call_the_reference_stays_empty(people: Any) -> None:
    c = client_for(people.call_taker)
    assert c.post("/desk/", {**ticket_input(), "op": "save"}).status_code == 302
    assert Ticket.objects.get().recording_ref == ""


@pytest.mark.parametrize("bad", ["call:", "rec:123", "call:12 34", "call:a@b@c", "call:电话", "call:" + "x" * 251, "call:1\ncall:2"])
def test_a_malformed_call_reference_is_refused_and_nothing_is_saved(people: Any, bad: str) -> None:
    c = client_for(people.call_taker)
    r = c.post("/desk/", {**ticket_input(), "op": "save", "recording_ref": bad, "summary": ""})
    assert r.status_code == 422
    text = r.content.decode()
    assert 'id="err-recording_ref"' in text
    assert "此项必填" in text, "the other bad fields are named in the same answer"
    assert "东华路88号" in text, "what was typed is kept"
    assert not Ticket.objects.exists()
