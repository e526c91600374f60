"""Hypothesis: any message we can build serializes to bytes that parse back
to the same message (header order, names, values, body octets), over UDP
and through the TCP framer in arbitrary chunks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.sip.grammar import TOKEN_CHARS
from hotline.sip.headers import Headers
from hotline.sip.message import Request, Response, StreamFramer, parse_message
from hotline.sip.uri import SipUri

tokens = st.text(alphabet=sorted(TOKEN_CHARS), min_size=1, max_size=12)
# Header values: any text without CR/LF, not starting or ending with whitespace.
values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40
).map(lambda v: v.strip(" \t"))
header_names = tokens.filter(lambda n: n.lower() not in ("content-length", "l"))
hosts = st.from_regex(r"\A[a-z]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z]([a-z0-9-]{0,8}[a-z0-9])?){0,2}\Z")
uris = st.builds(
    SipUri,
    host=hosts,
    user=st.none() | st.from_regex(r"\A[a-zA-Z0-9_.!~*'()-]{1,12}\Z"),
    port=st.none() | st.integers(1, 65535),
    params=st.lists(st.tuples(st.from_regex(r"\A[a-z]{1,6}\Z"), st.none() | st.from_regex(r"\A[a-z0-9]{1,6}\Z")), max_size=3).map(tuple),
)
headers = st.lists(st.tuples(header_names, values), max_size=8).map(Headers)
bodies = st.binary(max_size=200)

requests = st.builds(Request.build, tokens, uris, headers, bodies)
responses = st.builds(
    Response.build, st.integers(100, 699), headers, bodies,
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n"), max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(requests, responses))
def test_parse_of_serialize_is_identity(message: Request | Response) -> None:
    assert parse_message(message.serialize()) == message
    assert parse_message(message.serialize(), stream=True) == message


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(requests, responses), min_size=1, max_size=4), st.integers(1, 97))
def test_stream_framer_returns_the_same_messages(messages: list[Request | Response], chunk: int) -> None:
    stream = b"".join(m.serialize() for m in messages)
    framer = StreamFramer()
    out: list[object] = []
    for i in range(0, len(stream), chunk):
        out.extend(framer.feed(stream[i : i + chunk]))
    assert out == messages and framer.buffered == 0
