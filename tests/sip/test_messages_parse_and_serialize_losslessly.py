"""SIP message syntax: start lines, folding, compact forms, multi-valued
headers, quoted strings, URIs, Content-Length framing over UDP and TCP."""

from __future__ import annotations

import pytest

from hotline.sip.errors import SipParseError
from hotline.sip.headers import Address, Headers, Via, canonical_name, parse_address, parse_cseq
from hotline.sip.message import KeepAlive, Request, Response, StreamFramer, parse_message, response_for
from hotline.sip.uri import SipUri, TelUri, parse_uri

INVITE = (
    b"INVITE sip:12345@binjiang.example SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 10.0.0.8:5060;branch=z9hG4bKnashds8;rport\r\n"
    b"Via: SIP/2.0/TCP proxy.binjiang.example;branch=z9hG4bK1, SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bK2\r\n"
    b"Max-Forwards: 70\r\n"
    b"t: <sip:12345@binjiang.example>\r\n"
    b'f: "\xe5\xbc\xa0\xe4\xb8\x89 \\"\xe5\xb8\x82\xe6\xb0\x91\\"" <sip:13800000000@binjiang.example>;tag=1928301774\r\n'
    b"i: a84b4c76e66710@pc33.binjiang.example\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"m: <sip:13800000000@10.0.0.8>;expires=60\r\n"
    b"Record-Route: <sip:p1.binjiang.example;lr>,\r\n <sip:p2.binjiang.example;lr>\r\n"
    b"c: application/sdp\r\n"
    b"l: 4\r\n"
    b"\r\n"
    b"v=0\r\n"
)


def parsed() -> Request:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    return message


def test_compact_forms_expand_to_canonical_names() -> None:
    m = parsed()
    assert [name for name, _ in m.headers][:3] == ["Via", "Via", "Max-Forwards"]
    assert canonical_name("I") == "Call-ID" and canonical_name("cseq") == "CSeq" and canonical_name("X-Foo") == "X-Foo"
    assert m.headers.get("call-id") == m.headers.get("i") == "a84b4c76e66710@pc33.binjiang.example"
    assert m.content_type() == "application/sdp" and m.body == b"v=0\r"[:4]


def test_multi_valued_headers_keep_order_across_lines() -> None:
    vias = parsed().vias()
    assert [v.transport for v in vias] == ["UDP", "TCP", "UDP"]
    assert vias[0].has_param("rport") and vias[0].param("rport") == ""
    assert vias[2].host == "[2001:db8::9]" and vias[2].port == 5070
    assert [str(a.uri) for a in parsed().record_routes()] == ["sip:p1.binjiang.example;lr", "sip:p2.binjiang.example;lr"]


def test_quoted_display_names_with_escapes_and_utf8() -> None:
    frm = parsed().from_addr()
    assert frm.display_name == '张三 "市民"' and frm.tag == "1928301774"
    assert str(frm) == '"张三 \\"市民\\"" <sip:13800000000@binjiang.example>;tag=1928301774'
    assert parse_address(str(frm), "From") == frm


def test_serialize_round_trips_and_rewrites_content_length() -> None:
    m = parsed()
    again = parse_message(m.serialize())
    assert again == m
    longer = m.replace(body=b"v=0\r\no=- 1 1 IN IP4 10.0.0.8\r\n")
    assert parse_message(longer.serialize()).content_length() == len(longer.body)  # type: ignore[union-attr]


def test_headers_are_an_immutable_ordered_multidict() -> None:
    h = Headers([("Via", "a"), ("X-A", "1"), ("v", "b")])
    assert h.get_all("VIA") == ["a", "b"] and len(h) == 3 and "x-a" in h
    h2 = h.with_prepended("Via", "z").without("X-A").with_added("Route", "<sip:r;lr>")
    assert h.get_all("Via") == ["a", "b"]  # unchanged
    assert [n for n, _ in h2] == ["Via", "Via", "Via", "Route"]
    assert h2.with_replaced("Via", "only").get_all("Via") == ["only"]
    assert Headers([("Via", "a, b")]).without_first("Via").get_all("Via") == ["b"]


def test_uris_parse_and_serialize() -> None:
    uri = parse_uri("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&priority=urgent")
    assert isinstance(uri, SipUri) and uri.secure and uri.password == "secret" and uri.port == 5061
    assert uri.param("TRANSPORT") == "tcp" and uri.has_param("lr") and uri.headers[1] == ("priority", "urgent")
    assert parse_uri(str(uri)) == uri
    tel = parse_uri("tel:+86-571-12345;phone-context=binjiang.example")
    assert isinstance(tel, TelUri) and tel.number == "+86-571-12345" and tel.param("phone-context") == "binjiang.example"
    # user parts compare case-sensitively after unescaping, hosts case-insensitively (RFC 3261 §19.1.4)
    assert parse_uri("SIP:Bob@Example.COM").equivalent(parse_uri("sip:%42ob@example.com"))  # type: ignore[union-attr,arg-type]
    assert not parse_uri("sip:Bob@example.com").equivalent(parse_uri("sip:bob@example.com"))  # type: ignore[union-attr,arg-type]
    assert parse_uri("sip:bob@Example.COM;transport=TCP").equivalent(parse_uri("sip:b%6Fb@example.com;transport=tcp"))  # type: ignore[union-attr,arg-type]


@pytest.mark.parametrize(
    "text",
    ["sip:", "sip:@host", "sip:a@", "sip:a@b c", "sip:a@host:99999", "sip:a@host:x", "sip:a@ho_st", "sip:a%zz@host",
     "sip:a@host;=x", "sip:a@host;p=", "sip:a@host?x", "<sip:a@host>", "1sip:x", "sip:a@[::1", "tel:", "tel:12 34"],
)
def test_bad_uris_raise_parse_errors(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


@pytest.mark.parametrize(
    "value",
    ['"unterminated <sip:a@b>', "<sip:a@b", "< sip:a@b>", "a,b <sip:a@b>", "sip:a@b?x=1", "<sip:a@b>;", "<sip:a@b>;=1",
     "<sip:a@b>;tag=", "<sip:a@b> junk"],
)
def test_bad_addresses_raise_parse_errors(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_address(value, "To")


def test_cseq_and_via_reject_bad_values() -> None:
    assert parse_cseq(" 0001 \t INVITE ").number == 1
    for bad in ["INVITE", "1", "1INVITE", "-1 INVITE", "2147483648 INVITE", "1 INV ITE"]:
        with pytest.raises(SipParseError):
            parse_cseq(bad)
    assert str(Via("UDP", "10.0.0.1", 5060, (("branch", "z9hG4bKx"),))) == "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx"


@pytest.mark.parametrize(
    "data",
    [b"", b"\r\n\r\n", b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n", b"INVITE sip:a@b SIP/2.0\r\nno colon\r\n\r\n",
     b"INVITE sip:a@b SIP/2.0\r\n bad continuation\r\n\r\n", b"SIP/2.0 2000 OK\r\n\r\n", b"SIP/2.0 099 Low\r\n\r\n",
     b"SIP/2.0200 OK\r\n\r\n", b"INVITE sip:a@b HTTP/1.1\r\n\r\n", b"IN VITE sip:a@b SIP/2.0\r\n\r\n",
     b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 1x\r\n\r\n"],
)
def test_malformed_messages_raise_parse_errors(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse_message(data)


def test_response_for_copies_mandatory_headers_and_adds_to_tag() -> None:
    r = response_for(parsed(), 180, to_tag="as7d9")
    assert isinstance(r, Response) and (r.status, r.reason) == (180, "Ringing")
    assert r.headers.get_all("Via") == parsed().headers.get_all("Via")
    assert r.to_addr().tag == "as7d9" and r.call_id() == parsed().call_id() and r.cseq() == parsed().cseq()
    assert response_for(parsed(), 100, to_tag="x").to_addr().tag is None
    assert parse_message(r.serialize()) == r


def test_stream_framer_cuts_messages_in_any_chunking() -> None:
    stream = INVITE + b"\r\n\r\n" + INVITE
    for size in (1, 7, 64, len(stream)):
        framer = StreamFramer()
        out: list[object] = []
        for i in range(0, len(stream), size):
            out.extend(framer.feed(stream[i : i + size]))
        assert out == [parsed(), KeepAlive(), parsed()]
        assert framer.buffered == 0


def test_stream_framer_requires_content_length_and_stays_broken() -> None:
    framer = StreamFramer()
    with pytest.raises(SipParseError) as info:
        framer.feed(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n")
    assert info.value.header == "Content-Length"
    with pytest.raises(SipParseError):
        framer.feed(INVITE)


def test_stream_framer_bounds_the_header_section() -> None:
    framer = StreamFramer(max_head=1024)
    with pytest.raises(SipParseError):
        framer.feed(b"INVITE sip:a@b SIP/2.0\r\n" + b"X: " + b"a" * 2000)


def test_udp_body_without_content_length_runs_to_the_end() -> None:
    m = parse_message(b"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nhello")
    assert m.body == b"hello"
    with pytest.raises(SipParseError):
        parse_message(b"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nhello", stream=True)


def test_address_str_quotes_only_when_needed() -> None:
    assert str(Address(parse_uri("sip:a@b"), "Agent 8001")) == "Agent 8001 <sip:a@b>"
    assert str(Address(parse_uri("sip:a@b"), "班长席")) == '"班长席" <sip:a@b>'


def test_stream_framer_reports_a_framed_bad_message_and_goes_on() -> None:
    bad = b"INVITE  sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK9\r\nContent-Length: 0\r\n\r\n"
    out = StreamFramer().feed(INVITE + bad + INVITE)
    assert out[0] == parsed() and out[2] == parsed()
    assert isinstance(out[1], SipParseError) and out[1].is_request and out[1].headers is not None
