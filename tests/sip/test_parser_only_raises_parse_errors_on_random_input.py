"""Hypothesis: garbage and mutated valid messages give SipParseError (or a
message whose typed accessors give SipParseError), never another exception;
validate_request/validate_response never raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.sip.digest import parse_challenge, parse_credentials
from hotline.sip.errors import SipParseError
from hotline.sip.headers import parse_address, parse_address_list, parse_cseq, parse_via_list
from hotline.sip.message import Request, StreamFramer, parse_message
from hotline.sip.uri import parse_uri
from hotline.sip.validate import validate_request, validate_response

from ._torture import TORTURE_DIR

FUZZ = settings(max_examples=300, deadline=None)
SAMPLES = [p.read_bytes() for p in sorted(TORTURE_DIR.glob("*.dat"))]


def exercise(data: bytes) -> None:
    try:
        message = parse_message(data)
    except SipParseError:
        return
    if isinstance(message, Request):
        validate_request(message)
    else:
        validate_response(message)
    for accessor in (message.vias, message.from_addr, message.to_addr, message.call_id, message.cseq,
                     message.contacts, message.routes, message.record_routes, message.max_forwards,
                     message.content_length):
        try:
            accessor()
        except SipParseError:
            pass
    again = message.serialize()
    assert isinstance(again, bytes)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.sampled_from([b"\r\n", b" ", b",", b";", b"<", b'"', b"%", b":", b"\\", b"\x00", b"\r\n "]))
        elif data:
            del data[pos : pos + draw(st.integers(1, 10))]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    exercise(data)


@FUZZ
@given(mutated())
def test_mutated_torture_messages(data: bytes) -> None:
    exercise(data)


@FUZZ
@given(st.text(max_size=120))
def test_header_value_parsers(value: str) -> None:
    for func in (lambda v: parse_address(v, "To"), lambda v: parse_address_list(v, "Contact"), parse_cseq,
                 parse_via_list, parse_uri, parse_credentials, parse_challenge):
        try:
            func(value)
        except SipParseError:
            pass


@FUZZ
@given(mutated(), st.lists(st.integers(1, 50), max_size=20))
def test_stream_framer(data: bytes, cuts: list[int]) -> None:
    framer = StreamFramer()
    pos = 0
    try:
        for cut in cuts + [len(data)]:
            framer.feed(data[pos : pos + cut])
            pos += cut
    except SipParseError:
        pass
