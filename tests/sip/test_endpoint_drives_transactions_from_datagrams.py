"""The aioquic-style Endpoint: datagrams and a fake clock in, datagrams and
events out.  Two endpoints (a citizen's phone and the hotline) talk through an
in-memory network that can lose packets; no sockets, no sleeps."""

from __future__ import annotations

import random

import pytest

from hotline.sip.dialog import Dialog
from hotline.sip.endpoint import (
    AckReceived,
    AckTimeout,
    BadMessage,
    CancelReceived,
    Endpoint,
    Event,
    RequestReceived,
    ResponseReceived,
    TransactionTerminated,
    TransactionTimeout,
)
from hotline.sip.headers import Address, Headers
from hotline.sip.message import KeepAlive, Request, Response, parse_message, response_for
from hotline.sip.uri import parse_uri

from ._builders import request
from ._torture import torture

PHONE = ("10.0.0.8", 5060)
HOTLINE = ("10.0.0.1", 5060)


def hotline(**kwargs: object) -> Endpoint:
    return Endpoint(local_host=HOTLINE[0], local_port=HOTLINE[1], rng=random.Random(7), **kwargs)  # type: ignore[arg-type]


def phone() -> Endpoint:
    return Endpoint(local_host=PHONE[0], local_port=PHONE[1], rng=random.Random(8))


def events(ep: Endpoint) -> list[Event]:
    out = []
    while (e := ep.next_event()) is not None:
        out.append(e)
    return out


def sent(ep: Endpoint, now: float = 0.0) -> list[Request | Response]:
    return [parse_message(data) for data, _ in ep.datagrams_to_send(now)]


def statuses(messages: list[Request | Response]) -> list[int | str]:
    return [m.status if isinstance(m, Response) else m.method for m in messages]


def test_garbage_is_dropped_silently() -> None:
    ep = hotline()
    for junk in (b"\x16\x03\x01\x02\x00", b"GET / HTTP/1.1\r\n\r\n", b"\r\n\r\n", torture("bigcode"), torture("scalarlg")):
        ep.receive_datagram(junk, PHONE, 0.0)
    assert ep.datagrams_to_send(0.0) == []
    assert all(isinstance(e, BadMessage) and e.answered_with is None for e in events(ep))
    assert ep.transaction_count == 0 and ep.get_timer() is None


@pytest.mark.parametrize(
    ("name", "status"),
    [("ltgtruri", 400), ("lwsruri", 400), ("lwsstart", 400), ("trws", 400), ("ncl", 400), ("clerr", 400),
     ("mcl01", 400), ("badinv01", 400), ("quotbal", 400), ("scalar02", 400), ("escruri", 400), ("badvers", 505),
     ("mismatch01", 400), ("mismatch02", 501), ("badbranch", 400), ("unkscm", 416), ("novelsc", 416), ("bext01", 420), ("invut", 415),
     ("sdp01", 406), ("esc02", 501), ("unksm2", 400), ("multi01", 400)],
)
def test_broken_torture_requests_get_the_rfc_answer(name: str, status: int) -> None:
    ep = hotline()
    ep.receive_datagram(torture(name), PHONE, 0.0)
    out = ep.datagrams_to_send(0.0)
    assert len(out) == 1 and out[0][1] == PHONE
    response = parse_message(out[0][0])
    assert isinstance(response, Response) and response.status == status
    assert response.headers.count("To") == 1 and response.headers.count("CSeq") == 1
    if name not in ("quotbal",):  # a To that cannot be parsed is copied as it was
        assert response.to_addr().tag is not None


def test_missing_mandatory_headers_get_400_matched_by_via_and_cseq() -> None:
    ep = hotline()
    ep.receive_datagram(torture("insuf"), PHONE, 0.0)
    # insuf has Via and CSeq but no To/From/Call-ID: RFC 4475 §3.3.1 asks for 400; the
    # client matches it by the Via branch and CSeq method (§17.1.3), which we copy.
    (response,) = sent(ep)
    assert isinstance(response, Response) and response.status == 400
    assert response.top_via().branch == "z9hG4bKkdj.insuf" and str(response.cseq()) == "193942 INVITE"


def test_invite_gets_100_then_2xx_is_retransmitted_until_ack() -> None:
    ep = hotline()
    invite = request("INVITE", body=b"v=0\r\n")
    ep.receive_datagram(invite.serialize(), PHONE, 0.0)
    assert statuses(sent(ep)) == [100]
    (received,) = events(ep)
    assert isinstance(received, RequestReceived) and received.request.method == "INVITE"
    ok = response_for(received.request, 200, to_tag="agent", extra=(("Contact", "<sip:8001@10.0.0.1>"),))
    ep.send_response(received.key, ok, 1.0)
    assert statuses(sent(ep)) == [200]
    ep.receive_datagram(invite.serialize(), PHONE, 1.2)  # retransmitted INVITE: absorbed after 2xx
    assert sent(ep) == []
    resends = []
    for t in (1.5, 2.5, 4.5):
        ep.handle_timer(t)
        resends += [t] * len(sent(ep))
    assert resends == [1.5, 2.5, 4.5]
    ack = request("ACK", branch="z9hG4bKack1", to_tag="agent")
    ep.receive_datagram(ack.serialize(), PHONE, 5.0)
    assert [type(e) for e in events(ep)] == [AckReceived]
    ep.handle_timer(9.0)
    assert sent(ep) == []


def test_2xx_never_acknowledged_raises_ack_timeout() -> None:
    ep = hotline()
    ep.receive_datagram(request("INVITE").serialize(), PHONE, 0.0)
    (received,) = [e for e in events(ep) if isinstance(e, RequestReceived)]
    ep.send_response(received.key, response_for(received.request, 200, to_tag="a"), 0.0)
    now = 0.0
    while (deadline := ep.get_timer()) is not None and deadline <= 40.0:
        now = deadline
        ep.handle_timer(now)
    timeouts = [e for e in events(ep) if isinstance(e, AckTimeout)]
    assert len(timeouts) == 1 and timeouts[0].response.status == 200
    assert ep.get_timer() is None and ep.transaction_count == 0


def test_failure_is_retransmitted_until_ack_which_is_absorbed() -> None:
    ep = hotline()
    invite = request("INVITE")
    ep.receive_datagram(invite.serialize(), PHONE, 0.0)
    (received,) = [e for e in events(ep) if isinstance(e, RequestReceived)]
    sent(ep)
    ep.send_response(received.key, response_for(received.request, 486, to_tag="busy"), 0.0)
    assert statuses(sent(ep)) == [486]
    ep.handle_timer(0.5)
    assert statuses(sent(ep)) == [486]
    ep.receive_datagram(request("ACK", to_tag="busy").serialize(), PHONE, 0.7)  # same branch as the INVITE
    assert [e for e in events(ep) if not isinstance(e, TransactionTerminated)] == []
    ep.handle_timer(3.0)
    assert sent(ep) == []


def test_cancel_gets_200_and_the_invite_487() -> None:
    ep = hotline()
    invite = request("INVITE")
    ep.receive_datagram(invite.serialize(), PHONE, 0.0)
    (received,) = [e for e in events(ep) if isinstance(e, RequestReceived)]
    ep.send_response(received.key, response_for(received.request, 180, to_tag="ring"), 0.1)
    sent(ep)
    cancel = request("CANCEL")
    ep.receive_datagram(cancel.serialize(), PHONE, 2.0)
    out = sent(ep)
    assert statuses(out) == [200, 487]
    assert all(isinstance(m, Response) and m.to_addr().tag == "ring" for m in out)
    assert [type(e) for e in events(ep)] == [CancelReceived]
    ep.receive_datagram(request("ACK", to_tag="ring").serialize(), PHONE, 2.1)
    assert sent(ep) == []  # the ACK for the 487 stops its retransmission
    # a CANCEL for nothing
    ep.receive_datagram(request("CANCEL", branch="z9hG4bKnothing").serialize(), PHONE, 3.0)
    assert statuses(sent(ep)) == [481]


def test_non_invite_final_is_resent_to_retransmissions_until_timer_j() -> None:
    ep = hotline()
    options = request("OPTIONS", branch="z9hG4bKo1")
    ep.receive_datagram(options.serialize(), PHONE, 0.0)
    (received,) = events(ep)
    assert isinstance(received, RequestReceived)
    assert sent(ep) == []  # no automatic 100 for non-INVITE
    ep.send_response(received.key, response_for(received.request, 200, to_tag="o"), 0.1)
    assert statuses(sent(ep)) == [200]
    ep.receive_datagram(options.serialize(), PHONE, 1.0)
    assert statuses(sent(ep)) == [200]
    assert events(ep) == []
    ep.handle_timer(32.1)
    assert ep.transaction_count == 0


def test_received_and_rport_are_stamped_on_the_top_via() -> None:
    ep = hotline()
    invite = request("INVITE")
    invite = invite.replace(headers=invite.headers.with_replaced("Via", "SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bKnat;rport"))
    ep.receive_datagram(invite.serialize(), ("203.0.113.9", 40123), 0.0)
    ((data, addr),) = ep.datagrams_to_send(0.0)
    assert addr == ("203.0.113.9", 40123)
    via = parse_message(data).top_via()
    assert via.param("received") == "203.0.113.9" and via.param("rport") == "40123"


def test_uac_invite_retransmits_then_cancels_after_provisional() -> None:
    ep = phone()
    invite = request("INVITE", branch=ep.new_branch())
    key = ep.send_request(invite, HOTLINE, 0.0)
    assert statuses(sent(ep)) == ["INVITE"]
    ep.handle_timer(0.5)
    assert statuses(sent(ep)) == ["INVITE"]
    assert ep.cancel(key, 0.6) is None  # no provisional yet: CANCEL waits
    assert sent(ep) == []
    ep.receive_datagram(response_for(invite, 180, to_tag="r").serialize(), HOTLINE, 1.0)
    assert statuses(sent(ep)) == ["CANCEL"]
    ep.receive_datagram(response_for(invite, 487, to_tag="r").serialize(), HOTLINE, 1.1)
    out = sent(ep)
    assert statuses(out) == ["ACK"] and out[0].top_via().branch == invite.top_via().branch
    got = [e.response.status for e in events(ep) if isinstance(e, ResponseReceived)]
    assert got == [180, 487]


def test_uac_times_out_without_answer() -> None:
    ep = phone()
    key = ep.send_request(request("OPTIONS", branch=ep.new_branch()), HOTLINE, 0.0)
    while (deadline := ep.get_timer()) is not None:
        ep.handle_timer(deadline)
    assert len(sent(ep)) == 11  # the request and 10 retransmissions (timer E) before F
    assert TransactionTimeout(key) in events(ep)


def test_stray_2xx_after_the_transaction_is_passed_up_for_a_new_ack() -> None:
    ep = phone()
    invite = request("INVITE", branch="z9hG4bKlate")
    ep.receive_datagram(response_for(invite, 200, to_tag="t").serialize(), HOTLINE, 0.0)
    (event,) = events(ep)
    assert isinstance(event, ResponseReceived) and event.key is None


class Network:
    """An in-memory UDP network between endpoints that drops chosen datagrams."""

    def __init__(self, endpoints: dict[tuple[str, int], Endpoint], drop: set[int]) -> None:
        self.endpoints = endpoints
        self.drop = drop
        self.count = 0

    def pump(self, now: float) -> None:
        moved = True
        while moved:
            moved = False
            for addr, ep in self.endpoints.items():
                for data, dest in ep.datagrams_to_send(now):
                    self.count += 1
                    moved = True
                    if self.count in self.drop:
                        continue
                    self.endpoints[dest].receive_datagram(data, addr, now)

    def next_timer(self) -> float | None:
        timers = [t for ep in self.endpoints.values() if (t := ep.get_timer()) is not None]
        return min(timers) if timers else None


@pytest.mark.parametrize("drop", [set(), {1}, {2, 3}, {4}, {5, 6}])
def test_a_call_completes_over_a_lossy_network(drop: set[int]) -> None:
    """INVITE/100/180/200/ACK, then BYE/200 — with datagrams lost."""
    uac, uas = phone(), hotline()
    net = Network({PHONE: uac, HOTLINE: uas}, drop)
    now = 0.0
    contact = Address(parse_uri("sip:13800000000@10.0.0.8:5060"))
    headers = Headers([
        ("Via", str(uac.via())), ("Max-Forwards", "70"), ("To", "<sip:12345@binjiang.example>"),
        ("From", f"<sip:13800000000@binjiang.example>;tag={uac.new_tag()}"), ("Call-ID", uac.new_call_id()),
        ("CSeq", "1 INVITE"), ("Contact", str(contact)), ("Content-Type", "application/sdp"),
    ])
    invite = Request.build("INVITE", parse_uri("sip:12345@binjiang.example"), headers, b"v=0\r\n")
    uac.send_request(invite, HOTLINE, now)
    uac_dialog: Dialog | None = None
    uas_dialog: Dialog | None = None
    answered = acked = bye_sent = False
    bye_done = False
    for _ in range(200):
        while True:  # exchange everything that is due now, then advance the clock
            net.pump(now)
            uas_events, uac_events = events(uas), events(uac)
            if not uas_events and not uac_events:
                break
            for e in uas_events:
                if isinstance(e, RequestReceived) and e.request.method == "INVITE":
                    tag = uas.new_tag()
                    uas.send_response(e.key, response_for(e.request, 180, to_tag=tag), now)
                    uas_dialog = Dialog.from_uas(e.request, local_tag=tag, local_contact=Address(parse_uri("sip:8001@10.0.0.1")), confirmed=True)
                    uas.send_response(e.key, response_for(e.request, 200, to_tag=tag, extra=(("Contact", "<sip:8001@10.0.0.1>"),)), now)
                    answered = True
                elif isinstance(e, AckReceived):
                    acked = True
                elif isinstance(e, RequestReceived) and e.request.method == "BYE":
                    assert uas_dialog is not None and uas_dialog.matches(e.request)
                    assert uas_dialog.receive_request(e.request) is None
                    uas.send_response(e.key, response_for(e.request, 200), now)
            for e in uac_events:
                if isinstance(e, ResponseReceived) and e.response.status == 200 and e.response.cseq().method == "INVITE":
                    if uac_dialog is None:
                        uac_dialog = Dialog.from_uac(invite, e.response, local_contact=contact)
                    uac.send_ack(uac_dialog.create_ack(1, via=uac.via()), HOTLINE)
                elif isinstance(e, ResponseReceived) and e.response.cseq().method == "BYE" and e.response.status == 200:
                    bye_done = True
            if acked and uac_dialog is not None and not bye_sent:
                uac.send_request(uac_dialog.create_bye(via=uac.via()), HOTLINE, now)
                bye_sent = True
        if bye_done:
            break
        deadline = net.next_timer()
        if deadline is None:
            break
        now = max(now, deadline)
        for ep in (uac, uas):
            ep.handle_timer(now)
    assert answered and acked and bye_done
    assert uas_dialog is not None and uas_dialog.state.value == "terminated"
    assert now < 10.0  # recovered by retransmission, not by giving up
    if 1 in drop:
        assert now >= 0.5  # the lost INVITE came back with timer A


def test_tcp_endpoint_takes_framed_messages_and_never_retransmits() -> None:
    from hotline.sip.message import StreamFramer

    ep = Endpoint(local_host="10.0.0.1", local_port=5060, transport="TCP", rng=random.Random(3))
    framer = StreamFramer()
    bad = b"OPTIONS  sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK9\r\nFrom: <sip:x@y>;tag=1\r\n" \
          b"To: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    invite = request("INVITE").serialize()
    for item in framer.feed(invite + bad):
        assert not isinstance(item, KeepAlive)
        ep.receive_message(item, PHONE, 0.0)
    assert statuses(sent(ep)) == [100, 400]
    (received,) = [e for e in events(ep) if isinstance(e, RequestReceived)]
    ep.send_response(received.key, response_for(received.request, 486, to_tag="b"), 0.1)
    assert statuses(sent(ep)) == [486]
    assert ep.get_timer() == pytest.approx(32.1)  # timer H only: no G on TCP


def test_responses_with_two_vias_are_discarded_by_the_uac() -> None:
    """RFC 3261 §8.1.3.3 (and RFC 4475 §3.3.10, bcast)."""
    ep = phone()
    invite = request("INVITE", branch=ep.new_branch())
    ep.send_request(invite, HOTLINE, 0.0)
    sent(ep)
    two = response_for(invite, 180, to_tag="r")
    two = two.replace(headers=two.headers.with_added("Via", "SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKx"))
    ep.receive_datagram(two.serialize(), HOTLINE, 0.1)
    (event,) = events(ep)
    assert isinstance(event, BadMessage) and event.answered_with is None
    assert ep.get_timer() == pytest.approx(0.5)  # still Calling: timer A runs on
    ep.receive_datagram(torture("bcast"), HOTLINE, 0.2)
    assert isinstance(events(ep)[0], BadMessage)
