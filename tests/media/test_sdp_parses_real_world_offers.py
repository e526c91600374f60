"""SDP parse/serialize on offers from baresip, SIPp, Linphone and trunks."""

from __future__ import annotations

import pytest

from hotline.media.errors import MediaParseError, SdpParseError
from hotline.media.sdp import (
    RtpMap,
    SessionDescription,
    format_event_ranges,
    parse_event_ranges,
    parse_sdp,
)

from ._sdp_samples import ALL_OFFERS, FREESWITCH_TRUNK, LINPHONE, OLD_STYLE_HOLD, SIPP_UAC_PCAP


@pytest.mark.parametrize("name", sorted(ALL_OFFERS))
def test_real_offer_round_trips_byte_for_byte(name: str) -> None:
    text = ALL_OFFERS[name]
    desc = parse_sdp(text)
    assert desc.serialize() == text
    assert parse_sdp(desc.to_bytes()).serialize() == text


def test_bare_lf_and_trailing_blank_lines_are_accepted_and_normalised_to_crlf() -> None:
    lf = SIPP_UAC_PCAP.replace("\r\n", "\n") + "\n\n"
    assert parse_sdp(lf).serialize() == SIPP_UAC_PCAP


def test_session_level_fields_are_parsed() -> None:
    desc = parse_sdp(FREESWITCH_TRUNK)
    assert desc.version == 0
    assert desc.origin.username == "FreeSWITCH"
    assert desc.origin.session_id == "1713870000"
    assert desc.origin.session_version == 1713870001
    assert desc.origin.address == "198.51.100.20"
    assert desc.session_name == "FreeSWITCH"
    assert desc.connection is not None and desc.connection.host == "198.51.100.20"
    assert (desc.timings[0].start, desc.timings[0].stop) == (0, 0)


def test_media_level_accessors_for_rtpmap_fmtp_ptime_rtcp_and_direction() -> None:
    desc = parse_sdp(FREESWITCH_TRUNK)
    (audio,) = desc.media
    assert (audio.media, audio.port, audio.proto) == ("audio", 24680, "RTP/AVP")
    assert audio.payload_types == [0, 8, 101, 13]
    assert audio.rtpmaps()[101] == RtpMap(101, "telephone-event", 8000)
    assert audio.fmtps() == {101: "0-16"}
    assert audio.ptime == 20
    assert audio.rtcp == (24681, "198.51.100.20")
    assert desc.direction_for(audio) == "sendrecv"


def test_static_payload_types_resolve_without_rtpmap() -> None:
    audio = parse_sdp(LINPHONE).media[0]
    assert audio.codec_for(0) == ("PCMU", 8000, 1)
    assert audio.codec_for(18) == ("G729", 8000, 1)
    assert audio.codec_for(96) == ("opus", 48000, 2)
    assert audio.codec_for(120) is None
    assert audio.fmtps()[18] == "annexb=yes"


def test_default_direction_is_sendrecv_and_old_style_hold_is_visible() -> None:
    desc = parse_sdp(OLD_STYLE_HOLD)
    assert desc.direction_for(desc.media[0]) == "sendrecv"
    conn = desc.connection_for(desc.media[0])
    assert conn is not None and conn.is_null


def test_media_level_connection_overrides_session_level() -> None:
    text = SIPP_UAC_PCAP.replace("a=rtpmap:8", "c=IN IP4 10.9.9.9\r\na=rtpmap:8")
    desc = parse_sdp(text)
    conn = desc.connection_for(desc.media[0])
    assert conn is not None and conn.host == "10.9.9.9"
    assert desc.serialize() == text


def test_event_ranges() -> None:
    assert parse_event_ranges("0-11,16") == frozenset([*range(12), 16])
    assert format_event_ranges({0, 1, 2, 3, 5, 7, 8, 16}) == "0-3,5,7-8,16"
    with pytest.raises(SdpParseError):
        parse_event_ranges("5-2")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "o=- 1 1 IN IP4 1.2.3.4\r\n",
        "v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n",
        "v=0\r\ns=-\r\n",
        "v=0\r\no=- 1 x IN IP4 1.2.3.4\r\n",
        "v=0\r\no=- 1 1 IN IP4\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nX=oops\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\ns=late\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\na=:novalue\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\no=- 2 2 IN IP4 1.2.3.4\r\n",
    ],
)
def test_malformed_descriptions_raise_sdp_parse_error(text: str) -> None:
    with pytest.raises(SdpParseError):
        SessionDescription.parse(text)


@pytest.mark.parametrize(
    "attr",
    ["a=rtpmap:0", "a=rtpmap:x PCMU/8000", "a=rtpmap:0 PCMU", "a=rtpmap:200 PCMU/8000", "a=ptime:abc", "a=rtcp:1 IN"],
)
def test_malformed_attribute_values_raise_sdp_parse_error_on_access(attr: str) -> None:
    desc = parse_sdp(SIPP_UAC_PCAP + attr + "\r\n")
    audio = desc.media[0]
    with pytest.raises(MediaParseError):
        audio.rtpmaps()
        _ = audio.ptime
        _ = audio.rtcp
