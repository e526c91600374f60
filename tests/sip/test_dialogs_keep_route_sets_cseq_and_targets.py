"""Dialogs (RFC 3261 §12) on both sides of a call between a citizen's phone
and an agent desk through two record-routing proxies."""

from __future__ import annotations

import pytest

from hotline.sip.dialog import Dialog, DialogState
from hotline.sip.errors import SipLocalError, SipParseError
from hotline.sip.headers import Address, Headers, Via
from hotline.sip.message import Request, Response, parse_message, response_for
from hotline.sip.uri import SipUri, parse_uri

from ._builders import request

AGENT_CONTACT = Address(parse_uri("sip:agent8001@10.0.0.20:5060"))
PHONE_CONTACT = Address(parse_uri("sip:13800000000@10.0.0.8:5060"))


def via(branch: str) -> Via:
    return Via("UDP", "10.0.0.8", 5060, (("branch", branch),))


def invite_with_rr() -> Request:
    req = request("INVITE", cseq=101)
    headers = req.headers.with_added("Record-Route", "<sip:p2.binjiang.example;lr>").with_added(
        "Record-Route", "<sip:p1.binjiang.example;lr>"
    )
    return req.replace(headers=headers)


def answer(req: Request, status: int, contact: str = "<sip:agent8001@10.0.0.20:5060>") -> Response:
    rr = tuple(("Record-Route", v) for v in req.headers.get_all("Record-Route"))
    return response_for(req, status, to_tag="agent-tag", extra=(("Contact", contact),) + rr)


def test_uac_dialog_from_2xx_reverses_record_route() -> None:
    inv = invite_with_rr()
    d = Dialog.from_uac(inv, answer(inv, 200), local_contact=PHONE_CONTACT)
    assert d.state is DialogState.CONFIRMED and d.is_uac
    assert d.id == ("call-1@10.0.0.8", "caller1", "agent-tag")
    assert [str(r.uri) for r in d.route_set] == ["sip:p1.binjiang.example;lr", "sip:p2.binjiang.example;lr"]
    assert str(d.remote_target) == "sip:agent8001@10.0.0.20:5060" and d.local_seq == 101
    bye = d.create_bye(via=via("z9hG4bKbye"))
    assert str(bye.uri) == "sip:agent8001@10.0.0.20:5060"  # loose routing: target stays the Request-URI
    assert [str(r.uri) for r in bye.routes()] == ["sip:p1.binjiang.example;lr", "sip:p2.binjiang.example;lr"]
    assert bye.cseq().number == 102 and bye.to_addr().tag == "agent-tag" and bye.from_addr().tag == "caller1"
    assert parse_message(bye.serialize()) == bye


def test_uas_dialog_keeps_record_route_order_and_starts_its_own_cseq() -> None:
    inv = invite_with_rr()
    d = Dialog.from_uas(inv, local_tag="agent-tag", local_contact=AGENT_CONTACT, confirmed=False, initial_local_seq=5000)
    assert d.state is DialogState.EARLY and not d.is_uac
    assert [str(r.uri) for r in d.route_set] == ["sip:p2.binjiang.example;lr", "sip:p1.binjiang.example;lr"]
    assert d.remote_seq == 101 and str(d.remote_target) == "sip:13800000000@10.0.0.8:5060"
    d.confirm()
    bye = d.create_bye(via=via("z9hG4bKuasbye"))
    assert bye.cseq().number == 5000 and bye.from_addr().tag == "agent-tag" and bye.to_addr().tag == "caller1"
    assert d.matches(request("BYE", to_tag="agent-tag", cseq=102))
    assert not d.matches(request("BYE", to_tag="other", cseq=102))


def test_early_dialog_from_1xx_confirms_on_2xx_and_dies_on_failure() -> None:
    inv = invite_with_rr()
    d = Dialog.from_uac(inv, answer(inv, 180), local_contact=PHONE_CONTACT)
    assert d.state is DialogState.EARLY
    d.receive_response(inv, answer(inv, 200, "<sip:agent8001@10.0.0.21>"))
    assert d.state is DialogState.CONFIRMED and str(d.remote_target) == "sip:agent8001@10.0.0.21"
    d2 = Dialog.from_uac(inv, answer(inv, 183), local_contact=PHONE_CONTACT)
    d2.receive_response(inv, answer(inv, 486))
    assert d2.state is DialogState.TERMINATED


def test_responses_without_tag_or_contact_do_not_create_dialogs() -> None:
    inv = request("INVITE")
    with pytest.raises(SipParseError):
        Dialog.from_uac(inv, response_for(inv, 180), local_contact=PHONE_CONTACT)
    with pytest.raises(SipParseError):
        Dialog.from_uac(inv, response_for(inv, 200, to_tag="x"), local_contact=PHONE_CONTACT)
    with pytest.raises(SipLocalError):
        Dialog.from_uac(inv, response_for(inv, 100, to_tag="x"), local_contact=PHONE_CONTACT)


def test_remote_cseq_must_grow_and_reinvite_refreshes_the_target() -> None:
    inv = request("INVITE", cseq=10)
    d = Dialog.from_uas(inv, local_tag="agent-tag", local_contact=AGENT_CONTACT, confirmed=True)
    reinvite = request("INVITE", cseq=11, to_tag="agent-tag", sent_by="10.0.0.99:5062")
    assert d.receive_request(reinvite) is None
    assert str(d.remote_target) == "sip:13800000000@10.0.0.99:5062" and d.remote_seq == 11
    stale = d.receive_request(request("INFO", cseq=11, to_tag="agent-tag"))
    assert stale is not None and stale.status == 500
    ack = request("ACK", cseq=11, to_tag="agent-tag")
    assert d.receive_request(ack) is None  # ACK keeps the INVITE's number
    info = request("INFO", cseq=12, to_tag="agent-tag", sent_by="10.0.0.50:5060")
    assert d.receive_request(info) is None and str(d.remote_target).endswith("10.0.0.99:5062")  # INFO does not refresh
    assert d.receive_request(request("BYE", cseq=13, to_tag="agent-tag")) is None
    assert d.state is DialogState.TERMINATED
    with pytest.raises(SipLocalError):
        d.create_request("INFO", via=via("z9hG4bKx"))


def test_ack_for_2xx_uses_the_invite_number_and_a_new_branch() -> None:
    inv = invite_with_rr()
    d = Dialog.from_uac(inv, answer(inv, 200), local_contact=PHONE_CONTACT)
    ack = d.create_ack(101, via=via("z9hG4bKack"))
    assert ack.method == "ACK" and ack.cseq().number == 101 and ack.top_via().branch == "z9hG4bKack"
    assert d.local_seq == 101  # ACK does not consume a number
    reinvite = d.create_request("INVITE", via=via("z9hG4bKre"), body=b"v=0\r\n")
    assert reinvite.cseq().number == 102 and reinvite.contacts()[0] == PHONE_CONTACT
    assert reinvite.content_type() == "application/sdp"


def test_strict_first_hop_takes_the_request_uri() -> None:
    inv = request("INVITE", cseq=1)
    resp = response_for(inv, 200, to_tag="t", extra=(
        ("Contact", "<sip:agent8001@10.0.0.20>"),
        ("Record-Route", "<sip:strict.binjiang.example>, <sip:loose.binjiang.example;lr>"),
    ))
    d = Dialog.from_uac(inv, resp, local_contact=PHONE_CONTACT)
    bye = d.create_bye(via=via("z9hG4bKs"))
    # reversed Record-Route: the loose proxy is the first hop, so the target stays the Request-URI
    assert isinstance(bye.uri, SipUri) and bye.uri.host == "10.0.0.20"
    assert [str(r.uri) for r in bye.routes()] == ["sip:loose.binjiang.example;lr", "sip:strict.binjiang.example"]
    d.route_set = tuple(reversed(d.route_set))
    bye2 = d.create_bye(via=via("z9hG4bKs2"))
    assert str(bye2.uri) == "sip:strict.binjiang.example"
    assert [str(r.uri) for r in bye2.routes()] == ["sip:loose.binjiang.example;lr", "sip:agent8001@10.0.0.20"]


def test_481_to_an_in_dialog_request_ends_the_dialog() -> None:
    inv = request("INVITE", cseq=1)
    d = Dialog.from_uac(inv, response_for(inv, 200, to_tag="t", extra=(("Contact", "<sip:a@10.0.0.20>"),)),
                        local_contact=PHONE_CONTACT)
    info = d.create_request("INFO", via=via("z9hG4bKi"))
    d.receive_response(info, response_for(info, 481))
    assert d.state is DialogState.TERMINATED
    assert Headers(d.create_ack(1, via=via("z9hG4bKa")).headers.items()).get("CSeq") == "1 ACK"
