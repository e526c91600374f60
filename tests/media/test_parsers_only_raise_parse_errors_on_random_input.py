"""Hypothesis: every parser turns arbitrary network bytes into a value or a
MediaParseError subclass, never any other exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.media.dtmf import DtmfReceiver, TelephoneEvent
from hotline.media.errors import (
    DtmfParseError,
    MediaParseError,
    RtcpParseError,
    RtpParseError,
    SdpNegotiationError,
    SdpParseError,
    WavParseError,
)
from hotline.media.rtp import RtpPacket, parse_rtcp, serialize_rtcp
from hotline.media.sdp import SdpSession, parse_sdp
from hotline.media.wav import parse_wav_header

from ._sdp_samples import ALL_OFFERS

FUZZ = settings(max_examples=400, deadline=None)


def rtp_like() -> st.SearchStrategy[bytes]:
    """Random bytes that mostly start like RTP/RTCP version 2, to go deeper."""
    return st.one_of(
        st.binary(max_size=200),
        st.builds(lambda b0, rest: bytes([0x80 | (b0 & 0x3F)]) + rest, st.integers(0, 255), st.binary(max_size=200)),
    )


@FUZZ
@given(rtp_like())
def test_rtp_parser_raises_only_rtp_parse_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except RtpParseError:
        return
    assert packet.serialize() == data


@FUZZ
@given(rtp_like())
def test_rtcp_parser_raises_only_rtcp_parse_error(data: bytes) -> None:
    try:
        packets = parse_rtcp(data)
    except RtcpParseError:
        return
    # Whatever parsed re-serializes and parses to the same packets.
    assert parse_rtcp(serialize_rtcp(packets)) == packets


@FUZZ
@given(st.lists(st.binary(min_size=4, max_size=4), min_size=1, max_size=6), st.integers(0, 12))
def test_rtcp_parser_on_truncated_compound_packets(chunks: list[bytes], cut: int) -> None:
    data = b"".join(bytes([0x81 | (c[0] & 0x1F), 200 + (c[1] % 5), 0, c[3] % 8]) + c for c in chunks)
    try:
        parse_rtcp(data[: max(0, len(data) - cut)])
    except RtcpParseError:
        pass


@FUZZ
@given(st.binary(max_size=16))
def test_telephone_event_parser_raises_only_dtmf_parse_error(data: bytes) -> None:
    try:
        ev = TelephoneEvent.parse(data)
    except DtmfParseError:
        return
    assert ev.serialize() == data[:4]


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1), st.binary(max_size=8), st.booleans())))
def test_dtmf_receiver_never_raises_on_random_event_packets(items: list[tuple[int, int, bytes, bool]]) -> None:
    rx = DtmfReceiver()
    for i, (seq, ts, payload, marker) in enumerate(items):
        for digit in rx.feed(RtpPacket(101, seq, ts, 1, payload, marker), i * 0.02):
            assert digit.digit in "0123456789*#ABCD!"
    rx.expire(1e9)


@FUZZ
@given(st.binary(max_size=600))
def test_sdp_parser_raises_only_sdp_parse_error_on_random_bytes(data: bytes) -> None:
    try:
        parse_sdp(data)
    except SdpParseError:
        pass


sdp_line = st.builds(
    lambda k, v: f"{k}={v}",
    st.sampled_from(list("vosicbtmakrzeup") + ["x", "A", ""]),
    st.text(alphabet=st.sampled_from(list("0123456789 /:-.aIPNVRT4\t")), max_size=30),
)


@FUZZ
@given(st.lists(sdp_line, max_size=20))
def test_sdp_parser_and_negotiation_on_random_line_soup(lines: list[str]) -> None:
    text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n" + "\r\n".join(lines)
    try:
        desc = parse_sdp(text)
    except SdpParseError:
        return
    assert parse_sdp(desc.serialize()).serialize() == desc.serialize()
    try:
        SdpSession("10.0.0.1", 4000, session_id=1).create_answer(desc)
    except (SdpParseError, SdpNegotiationError):
        pass


@FUZZ
@given(st.sampled_from(sorted(ALL_OFFERS)), st.integers(0, 2000), st.integers(0, 2000), st.text(max_size=8))
def test_mutated_real_offers_only_fail_with_parse_or_negotiation_errors(
    name: str, start: int, length: int, junk: str
) -> None:
    text = ALL_OFFERS[name]
    start %= len(text)
    mutated = text[:start] + junk + text[start + length % 40 :]
    try:
        desc = parse_sdp(mutated)
        SdpSession("10.0.0.1", 4000, session_id=1).create_answer(desc)
    except (SdpParseError, SdpNegotiationError):
        pass


@FUZZ
@given(st.binary(max_size=120))
def test_wav_header_parser_raises_only_wav_parse_error(data: bytes) -> None:
    for blob in (data, b"RIFF\x00\x00\x00\x00WAVE" + data):
        try:
            parse_wav_header(blob)
        except WavParseError:
            pass


def test_all_parse_errors_share_the_media_parse_error_base() -> None:
    for cls in (RtpParseError, RtcpParseError, SdpParseError, DtmfParseError, WavParseError):
        assert issubclass(cls, MediaParseError)
    assert not issubclass(SdpNegotiationError, MediaParseError)
