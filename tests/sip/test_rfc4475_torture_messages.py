"""RFC 4475: every torture message, with what the RFC says a parser, a UAS or
a proxy should conclude (section numbers in each test's docstring).

"400" means validate_request() returns a 400 rejection (the endpoint answers
it); "parse error" means parse_message() raises SipParseError; a response that
is malformed is dropped (validate_response() gives the reason), never answered.
"""

from __future__ import annotations

import pytest

from hotline.sip import digest
from hotline.sip.errors import SipParseError
from hotline.sip.message import Request, Response, StreamFramer, parse_message
from hotline.sip.uri import AbsoluteUri, SipUri, parse_uri
from hotline.sip.validate import KNOWN_METHODS, Rejection, validate_request, validate_response

from ._torture import torture, torture_index


def req(name: str) -> Request:
    message = parse_message(torture(name))
    assert isinstance(message, Request)
    return message


def resp(name: str) -> Response:
    message = parse_message(torture(name))
    assert isinstance(message, Response)
    return message


def rejected(name: str, **kwargs: object) -> Rejection:
    rejection = validate_request(req(name), **kwargs)  # type: ignore[arg-type]
    assert rejection is not None, f"{name} should be rejected"
    return rejection


def parse_error(name: str) -> SipParseError:
    with pytest.raises(SipParseError) as info:
        parse_message(torture(name))
    return info.value


def sip(addr_uri: object) -> SipUri:
    assert isinstance(addr_uri, SipUri)
    return addr_uri


def test_every_indexed_message_has_a_test() -> None:
    rows = torture_index()
    assert len(rows) == 49
    missing = [row["file"] for row in rows if f"test_{row['file'][:-4]}" not in globals()]
    assert missing == []


# 3.1.1 valid messages ------------------------------------------------------


def test_wsinv() -> None:
    """3.1.1.1: folding, LWS around colons/slashes/semicolons, compact forms."""
    m = req("wsinv")
    assert m.method == "INVITE"
    assert sip(m.uri).has_param("unknownparam")
    to = m.to_addr()
    assert str(to.uri) == "sip:vivekg@chair-dnrc.example.com" and to.tag == "1918181833n"
    frm = m.from_addr()
    assert frm.display_name == 'J Rosenberg \\"' and frm.tag == "98asjd8"
    assert m.max_forwards() == 68
    assert m.call_id() == "wsinv.ndaksdj@192.0.2.1"
    assert (m.cseq().number, m.cseq().method) == (9, "INVITE")
    vias = m.vias()
    assert [(v.transport, v.host, v.branch) for v in vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert m.headers.get("Subject") == ""  # "s :" with an empty value
    assert m.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert m.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    route = m.routes()[0]
    assert sip(route.uri).has_param("lr") and sip(route.uri).param("unknownwith") == "value"
    (contact,) = m.contacts()
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))
    assert len(m.body) == 150 == m.content_length() and m.body.endswith(b"a=rtpmap:31 LPC\r\n")
    assert validate_request(m) is None


def test_intmeth() -> None:
    """3.1.1.2: every legal character in method, URI, tokens and quoted strings."""
    m = req("intmeth")
    method = "!interesting-Method0123456789_*+`.%indeed'~"
    assert m.method == method and m.cseq().method == method and m.cseq().number == 139122385
    uri = sip(m.uri)
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert uri.host == "example.com"
    assert m.top_via().branch == "z9hG4bK-.!%66*_+`'~"
    assert m.to_addr().display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    frm = m.from_addr()
    assert frm.display_name == "token1~` token2'+_ token3*%!.-"
    assert frm.param("fromParam''~+*_!.-%") == '"работающий"'
    assert frm.tag == "_token~1'+`*%!-."
    assert m.call_id() == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert m.max_forwards() == 255
    assert m.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"
    # Parsed correctly; a UAS that does not know the method answers 501.
    assert rejected("intmeth").status == 501


def test_esc01() -> None:
    """3.1.1.3: %-escapes are kept, and compare equal to their unescaped form."""
    m = req("esc01")
    uri = sip(m.uri)
    assert uri.user == "sips%3Auser%40example.com" and uri.host == "example.net"
    assert uri.unescaped_user() == "sips:user@example.com"
    assert sip(m.to_addr().uri).equivalent(sip(parse_uri("sip:user@example.com")))
    assert sip(m.from_addr().uri).unescaped_user() == "I have spaces"
    assert m.call_id() == "esc01.239409asdfakjkn23onasd0-3234"
    assert m.content_type() == "application/sdp"
    contact = sip(m.contacts()[0].uri)
    assert contact.equivalent(sip(parse_uri("sip:caller@host5.example.net;lr;name=value%2541")))
    assert validate_request(m) is None


def test_escnull() -> None:
    """3.1.1.4: escaped NULs in user parts are legal."""
    m = req("escnull")
    assert sip(m.to_addr().uri).unescaped_user() == "null-\x00-null"
    assert [sip(c.uri).unescaped_user() for c in m.contacts()] == ["\x00", "\x00\x00"]
    assert m.content_length() == 0
    assert validate_request(m) is None


def test_esc02() -> None:
    """3.1.1.5: % that is not an escape; RE%47IST%45R is not REGISTER."""
    m = req("esc02")
    assert m.method == "RE%47IST%45R" != "REGISTER"
    assert m.to_addr().display_name == "%Z%45" == m.from_addr().display_name
    assert m.top_via().branch == "z9hG4bK209%fzsnel234"
    # C%6Fntact is an extension header, not Contact.
    assert [str(c.uri) for c in m.contacts()] == ["sip:alias1@host1.example.com", "sip:alias3@host3.example.com"]
    assert m.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    assert rejected("esc02").status == 501


def test_lwsdisp() -> None:
    """3.1.1.6: no LWS between display name and '<'."""
    frm = req("lwsdisp").from_addr()
    assert frm.display_name == "caller" and str(frm.uri) == "sip:caller@example.com" and frm.tag == "323"
    assert validate_request(req("lwsdisp")) is None


def test_longreq() -> None:
    """3.1.1.7: long values everywhere, 34 Via header fields in every spelling."""
    m = req("longreq")
    to = m.to_addr()
    assert to.display_name is not None and to.display_name.startswith("I have a user name of extremeextreme")
    assert sip(to.uri).port == 6000 and len(sip(to.uri).params) == 3
    frm = m.from_addr()
    assert frm.tag is not None and len(frm.tag) == 155
    assert len(m.call_id()) == 141
    assert len(m.vias()) == 34
    assert m.vias()[0].host == "sip33.example.com"
    assert len(m.body) == 150
    assert validate_request(m) is None


def test_dblreq() -> None:
    """3.1.1.8: octets after Content-Length in a datagram are discarded."""
    m = req("dblreq")
    assert m.method == "REGISTER" and m.body == b""
    assert m.call_id() == "dblreq.0ha0isndaksdj99sdfafnl3lk233412"
    assert b"INVITE" not in m.serialize()
    assert validate_request(m) is None


def test_semiuri() -> None:
    """3.1.1.9: ';' inside the user part is not a URI parameter."""
    m = req("semiuri")
    uri = sip(m.uri)
    assert uri.user == "user;par=u%40example.net" and uri.host == "example.com" and uri.params == ()
    assert uri.unescaped_user() == "user;par=u@example.net"
    assert len(m.headers.values("Accept")) == 6
    assert validate_request(m) is None


def test_transports() -> None:
    """3.1.1.10: known and unknown transports in Via."""
    m = req("transports")
    assert [v.transport for v in m.vias()] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    assert validate_request(m) is None


def test_mpart01() -> None:
    """3.1.1.11: a multipart body with binary octets is carried untouched."""
    m = req("mpart01")
    assert m.content_type() == "multipart/mixed"
    assert len(m.body) == 553 == m.content_length()
    assert m.body.startswith(b"--7a9cbec02ceef655\r\n") and m.body.endswith(b"--7a9cbec02ceef655--\r\n")
    assert parse_message(m.serialize()).body == m.body
    assert validate_request(m, allowed_methods=KNOWN_METHODS, accepted_content_types=frozenset({"multipart/mixed"})) is None


def test_unreason() -> None:
    """3.1.1.12: a UTF-8 reason phrase."""
    m = resp("unreason")
    assert m.status == 200 and m.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    assert len(m.body) == 154
    assert validate_response(m) is None


def test_noreason() -> None:
    """3.1.1.13: an empty reason phrase."""
    m = resp("noreason")
    assert (m.status, m.reason) == (100, "")
    assert validate_response(m) is None


# 3.1.2 invalid messages ----------------------------------------------------


def test_badinv01() -> None:
    """3.1.2.1: empty Via/Contact parameters and list elements -> 400."""
    r = rejected("badinv01")
    assert (r.status, r.header) == (400, "Via")
    with pytest.raises(SipParseError):
        req("badinv01").contacts()


def test_clerr() -> None:
    """3.1.2.2: Content-Length larger than the datagram: 400 over UDP; on a
    stream the receiver waits for the rest."""
    err = parse_error("clerr")
    assert err.header == "Content-Length" and err.status == 400
    assert err.is_request and err.headers is not None and "Via" in err.headers  # enough to answer 400
    framer = StreamFramer()
    assert framer.feed(torture("clerr")) == []
    assert framer.buffered == len(torture("clerr"))


def test_ncl() -> None:
    """3.1.2.3: negative Content-Length -> 400."""
    err = parse_error("ncl")
    assert err.header == "Content-Length" and err.status == 400 and err.is_request


def test_scalar02() -> None:
    """3.1.2.4: CSeq above 2**31 -> 400 (Max-Forwards 300 and the huge Expires
    alone could be ignored)."""
    r = rejected("scalar02")
    assert (r.status, r.header) == (400, "CSeq")
    with pytest.raises(SipParseError):
        req("scalar02").max_forwards()


def test_scalarlg() -> None:
    """3.1.2.5: a response with overlarge scalars is dropped."""
    reason = validate_response(resp("scalarlg"))
    assert reason is not None and "CSeq" in reason


def test_quotbal() -> None:
    """3.1.2.6: unterminated quoted display name -> 400."""
    r = rejected("quotbal")
    assert (r.status, r.header) == (400, "To")


def test_ltgtruri() -> None:
    """3.1.2.7: <> around the Request-URI -> 400."""
    err = parse_error("ltgtruri")
    assert err.header == "Request-URI" and err.is_request and err.headers is not None


def test_lwsruri() -> None:
    """3.1.2.8: LWS inside the Request-URI -> 400."""
    err = parse_error("lwsruri")
    assert "request line" in err.message and err.is_request


def test_lwsstart() -> None:
    """3.1.2.9: several SP between request-line elements -> 400."""
    assert "request line" in parse_error("lwsstart").message


def test_trws() -> None:
    """3.1.2.10: SP after the SIP-Version -> 400."""
    assert "request line" in parse_error("trws").message


def test_escruri() -> None:
    """3.1.2.11: headers in a Request-URI are not allowed -> 400."""
    r = rejected("escruri")
    assert (r.status, r.header) == (400, "Request-URI")


def test_baddate() -> None:
    """3.1.2.12: Date not in GMT -> 400."""
    r = rejected("baddate")
    assert (r.status, r.header) == (400, "Date")


def test_regbadct() -> None:
    """3.1.2.13: an addr-spec with '?' must be enclosed in <> -> 400."""
    r = rejected("regbadct")
    assert (r.status, r.header) == (400, "Contact")


def test_badaspec() -> None:
    """3.1.2.14: spaces inside <addr-spec> -> 400 (we do not repair it)."""
    r = rejected("badaspec")
    assert (r.status, r.header) == (400, "To")


def test_baddn() -> None:
    """3.1.2.15: unquoted display name with a comma -> 400."""
    r = rejected("baddn")
    assert (r.status, r.header) == (400, "From")


def test_badvers() -> None:
    """3.1.2.16: SIP/7.0 -> 505 Version Not Supported."""
    assert rejected("badvers").status == 505


def test_mismatch01() -> None:
    """3.1.2.17: CSeq method differs from the request method -> 400."""
    r = rejected("mismatch01")
    assert (r.status, r.header) == (400, "CSeq")


def test_mismatch02() -> None:
    """3.1.2.18: unknown method and CSeq mismatch: 501 is preferred (400 is
    allowed); we answer 501 because the method check comes first."""
    m = req("mismatch02")
    assert (m.method, m.cseq().method) == ("NEWMETHOD", "INVITE")
    assert rejected("mismatch02").status == 501


def test_bigcode() -> None:
    """3.1.2.19: a status code above 699 -> parse error; a response is dropped."""
    err = parse_error("bigcode")
    assert err.is_request is False


# 3.2 transaction layer ----------------------------------------------------


def test_badbranch() -> None:
    """3.2.1: branch is only the magic cookie: we reject statelessly with 400
    (the RFC allows this or an RFC 2543 fallback)."""
    m = req("badbranch")
    assert m.top_via().branch == "z9hG4bK" and not m.top_via().is_rfc3261_branch
    r = rejected("badbranch")
    assert (r.status, r.header) == (400, "Via")


# 3.3 application layer ----------------------------------------------------


def test_insuf() -> None:
    """3.3.1: To, From, Call-ID and Max-Forwards missing -> 400."""
    r = rejected("insuf")
    assert r.status == 400 and r.header in {"To", "From", "Call-ID"}


def test_unkscm() -> None:
    """3.3.2: unknown Request-URI scheme kept opaque -> 416."""
    m = req("unkscm")
    assert m.uri == AbsoluteUri("nobodyKnowsThisScheme", "totallyopaquecontent")
    assert rejected("unkscm").status == 416


def test_novelsc() -> None:
    """3.3.3: known but atypical scheme (soap.beep) -> 416."""
    m = req("novelsc")
    assert isinstance(m.uri, AbsoluteUri) and m.uri.scheme == "soap.beep"
    assert rejected("novelsc").status == 416


def test_unksm2() -> None:
    """3.3.4: isbn/http/name URIs parse; a registrar answers 400 (the AOR in
    To must be a SIP or SIPS URI)."""
    m = req("unksm2")
    assert m.to_addr().uri == AbsoluteUri("isbn", "2983792873")
    assert m.from_addr().uri == AbsoluteUri("http", "//www.example.com")
    assert m.contacts()[0].uri == AbsoluteUri("name", "John_Smith")
    r = rejected("unksm2")
    assert (r.status, r.header) == (400, "To")


def test_bext01() -> None:
    """3.3.5: a UAS answers 420 listing the Require tags; a proxy lists the
    Proxy-Require tags."""
    r = rejected("bext01")
    assert r.status == 420
    assert r.extra_headers == (("Unsupported", "nothingSupportsThis, nothingSupportsThisEither"),)
    p = rejected("bext01", as_proxy=True)
    assert p.extra_headers == (("Unsupported", "noProxiesSupportThis, norDoAnyProxiesSupportThis"),)


def test_invut() -> None:
    """3.3.6: unknown body type -> 415 with Accept: application/sdp."""
    r = rejected("invut")
    assert r.status == 415 and r.extra_headers == (("Accept", "application/sdp"),)


def test_regaut01() -> None:
    """3.3.7: unknown Authorization scheme: valid request; a registrar that
    authenticates ignores the credentials and challenges (401)."""
    m = req("regaut01")
    assert validate_request(m) is None
    server = digest.DigestServer(realm="example.com", secret=b"s" * 32)
    outcome = server.check(m, lookup=lambda user, realm: None, now=1000.0)
    assert isinstance(outcome, digest.Challenge)
    assert outcome.status == 401 and outcome.header_name == "WWW-Authenticate"


def test_multi01() -> None:
    """3.3.8: several values in single-value headers -> 400."""
    assert rejected("multi01").status == 400


def test_mcl01() -> None:
    """3.3.9: two Content-Length values -> 400 (parse error with headers);
    on a stream the connection cannot be resynchronised."""
    err = parse_error("mcl01")
    assert err.header == "Content-Length" and err.is_request and err.headers is not None
    with pytest.raises(SipParseError):
        StreamFramer().feed(torture("mcl01"))


def test_bcast() -> None:
    """3.3.10: well-formed 200 with a broadcast second Via: parsed; an
    endpoint discards it (two Vias, RFC 3261 §8.1.3.3); a proxy must not
    forward it to the broadcast address, so it drops it too."""
    m = resp("bcast")
    assert m.vias()[1].host == "255.255.255.255"
    assert validate_response(m) == "more than one Via in a response to a UAC"
    assert validate_response(m, as_proxy=True) == "the next Via is a broadcast or multicast address"
    ok = parse_message(torture("bcast").replace(b"255.255.255.255", b"192.0.2.77"))
    assert isinstance(ok, Response) and validate_response(ok, as_proxy=True) is None


def test_zeromf() -> None:
    """3.3.11: Max-Forwards 0: a proxy answers 483, a UAS processes it."""
    m = req("zeromf")
    assert m.max_forwards() == 0
    assert validate_request(m) is None
    assert rejected("zeromf", as_proxy=True).status == 483


def test_cparam01() -> None:
    """3.3.12: ';unknownparam' after an addr-spec is a contact parameter."""
    (contact,) = req("cparam01").contacts()
    assert str(contact.uri) == "sip:+19725552222@gw1.example.net"
    assert contact.params == (("unknownparam", None),)
    assert validate_request(req("cparam01")) is None


def test_cparam02() -> None:
    """3.3.13: inside <> it is a URI parameter."""
    (contact,) = req("cparam02").contacts()
    assert sip(contact.uri).params == (("unknownparam", None),) and contact.params == ()
    assert validate_request(req("cparam02")) is None


def test_regescrt() -> None:
    """3.3.14: an escaped Route header inside a Contact URI is legal."""
    (contact,) = req("regescrt").contacts()
    uri = sip(contact.uri)
    assert uri.headers == (("Route", "%3Csip:sip.example.com%3E"),)
    assert validate_request(req("regescrt")) is None


def test_sdp01() -> None:
    """3.3.15: Accept without application/sdp on an INVITE -> 406."""
    r = rejected("sdp01")
    assert (r.status, r.header) == (406, "Accept")


# 3.4 backward compatibility ------------------------------------------------


def test_inv2543() -> None:
    """3.4.1: RFC 2543 syntax (no branch, no From tag, no Max-Forwards, no
    Content-Length over UDP) is accepted."""
    m = req("inv2543")
    assert m.top_via().branch is None and m.from_addr().tag is None
    assert m.max_forwards() is None and m.content_length() is None
    assert m.body.startswith(b"v=0") and m.body.endswith(b"m=audio 49217 RTP/AVP 0\r\n")
    assert sip(m.record_routes()[0].uri).param("maddr") == "ss1.example.com"
    assert validate_request(m) is None
