"""RFC 3264 offer/answer: codec choice, telephone-event, rejection, versions."""

from __future__ import annotations

import pytest

from hotline.media.errors import SdpNegotiationError
from hotline.media.sdp import PCMA, PCMU, Codec, SdpSession, parse_sdp

from ._sdp_samples import (
    ASTERISK_TRUNK,
    BARESIP,
    FREESWITCH_TRUNK,
    LINPHONE,
    SIPP_UAC,
    SIPP_UAC_PCAP,
    crlf,
)


def session(**kwargs: object) -> SdpSession:
    return SdpSession("10.1.2.3", 40000, session_id=123456, **kwargs)  # type: ignore[arg-type]


def test_offer_lists_pcmu_pcma_and_telephone_event_0_16() -> None:
    offer = session().create_offer()
    assert offer.serialize() == crlf(
        "v=0",
        "o=hotline 123456 0 IN IP4 10.1.2.3",
        "s=hotline",
        "c=IN IP4 10.1.2.3",
        "t=0 0",
        "m=audio 40000 RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ptime:20",
        "a=sendrecv",
    )


def test_offer_respects_codec_preference_and_ipv6() -> None:
    s = SdpSession("2001:db8::5", 5004, session_id=1, codecs=(PCMA,), telephone_event_pt=None)
    offer = s.create_offer()
    assert offer.origin.addrtype == "IP6"
    assert offer.media[0].formats == ["8"]


@pytest.mark.parametrize(
    ("offer_text", "codec", "te", "events"),
    [
        (BARESIP, PCMU, 101, "0-15"),
        (SIPP_UAC_PCAP, PCMA, 101, "0-11,16"),
        (SIPP_UAC, PCMU, None, None),
        (LINPHONE, PCMU, 100, "0-15"),
        (ASTERISK_TRUNK, PCMA, 101, "0-16"),
        (FREESWITCH_TRUNK, PCMU, 101, "0-16"),
    ],
)
def test_answer_picks_the_offerers_first_supported_codec_and_8khz_telephone_event(
    offer_text: str, codec: Codec, te: int | None, events: str | None
) -> None:
    answer, audio = session().create_answer(parse_sdp(offer_text))
    assert audio.codec == codec
    assert audio.telephone_event == te
    media = answer.media[audio.media_index]
    expected_formats = [str(codec.payload_type)] + ([str(te)] if te is not None else [])
    assert media.formats == expected_formats
    assert media.port == 40000
    if te is not None:
        assert media.fmtps()[te] == events
        assert media.rtpmaps()[te].clock_rate == 8000
    assert audio.direction == "sendrecv" and not audio.remote_hold
    # The answer itself is valid SDP that round-trips.
    assert parse_sdp(answer.serialize()).serialize() == answer.serialize()


def test_answer_reports_remote_endpoint_and_rtcp() -> None:
    _, audio = session().create_answer(parse_sdp(FREESWITCH_TRUNK))
    assert (audio.remote_address, audio.remote_port) == ("198.51.100.20", 24680)
    assert (audio.remote_rtcp_address, audio.remote_rtcp_port) == ("198.51.100.20", 24681)
    assert audio.ptime == 20
    _, audio = session().create_answer(parse_sdp(SIPP_UAC))
    assert audio.remote_rtcp_port == 6001  # RTP port + 1 by default


def test_rtcp_mux_offered_alone_is_not_accepted() -> None:
    answer, audio = session().create_answer(parse_sdp(BARESIP + "a=rtcp-mux\r\n"))
    assert answer.media[0].get("rtcp-mux") is None
    assert audio.remote_rtcp_port == 10153


def test_unsupported_m_lines_are_rejected_with_port_zero_in_the_same_order() -> None:
    answer, audio = session().create_answer(parse_sdp(LINPHONE))
    assert [m.media for m in answer.media] == ["audio", "video"]
    assert audio.media_index == 0
    video = answer.media[1]
    assert video.port == 0 and video.proto == "RTP/AVP" and video.formats == ["96", "97"]
    assert video.attributes == []


def test_an_srtp_stream_before_a_plain_one_is_rejected_and_the_plain_one_accepted() -> None:
    offer = crlf(
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/SAVP 0",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
        "m=audio 5002 RTP/AVP 0",
        "m=audio 5004 RTP/AVP 8",
    )
    answer, audio = session().create_answer(parse_sdp(offer))
    assert [m.port for m in answer.media] == [0, 40000, 0]
    assert [m.proto for m in answer.media] == ["RTP/SAVP", "RTP/AVP", "RTP/AVP"]
    assert audio.media_index == 1 and audio.remote_port == 5002


def test_offer_without_any_supported_codec_raises_negotiation_error() -> None:
    offer = crlf(
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/AVP 96 18",
        "a=rtpmap:96 opus/48000/2",
    )
    with pytest.raises(SdpNegotiationError):
        session().create_answer(parse_sdp(offer))


def test_offer_without_connection_line_raises_negotiation_error() -> None:
    offer = crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 5000 RTP/AVP 0")
    with pytest.raises(SdpNegotiationError):
        session().create_answer(parse_sdp(offer))


def test_answer_copies_the_offer_t_line() -> None:
    offer = parse_sdp(SIPP_UAC.replace("t=0 0", "t=3034423619 3042462419"))
    answer, _ = session().create_answer(offer)
    assert (answer.timings[0].start, answer.timings[0].stop) == (3034423619, 3042462419)


def test_version_increments_only_when_the_local_description_changes() -> None:
    s = session(initial_version=7)
    first = s.create_offer()
    same = s.create_offer()
    hold = s.create_offer("sendonly")
    resume = s.create_offer("sendrecv")
    versions = [d.origin.session_version for d in (first, same, hold, resume)]
    assert versions == [7, 7, 8, 9]
    assert {d.origin.session_id for d in (first, same, hold, resume)} == {"123456"}


def test_version_is_shared_by_offers_and_answers_in_a_dialog() -> None:
    s = session()
    answer, _ = s.create_answer(parse_sdp(ASTERISK_TRUNK))
    reoffer = s.create_offer("sendonly")
    assert answer.origin.session_version == 0
    assert reoffer.origin.session_version == 1
    s.port = 40002
    moved = s.create_offer("sendonly")
    assert moved.origin.session_version == 2 and moved.media[0].port == 40002


def test_process_answer_from_a_trunk() -> None:
    s = session()
    s.create_offer()
    answer = crlf(
        "v=0",
        "o=- 1713881234 1713881235 IN IP4 203.0.113.10",
        "s=Asterisk",
        "c=IN IP4 203.0.113.10",
        "t=0 0",
        "m=audio 17390 RTP/AVP 8 101",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ptime:30",
        "a=sendrecv",
    )
    audio = s.process_answer(parse_sdp(answer))
    assert audio.codec == PCMA and audio.telephone_event == 101
    assert audio.telephone_events == frozenset(range(17))
    assert (audio.remote_address, audio.remote_port, audio.ptime) == ("203.0.113.10", 17390, 30)
    assert audio.direction == "sendrecv"


def test_process_answer_rejections_raise_negotiation_error() -> None:
    s = session()
    with pytest.raises(SdpNegotiationError):
        s.process_answer(parse_sdp(SIPP_UAC))  # no offer pending
    s.create_offer()
    with pytest.raises(SdpNegotiationError):
        s.process_answer(parse_sdp(SIPP_UAC.replace("m=audio 6000", "m=audio 0")))
    s.create_offer()
    with pytest.raises(SdpNegotiationError):
        s.process_answer(parse_sdp(LINPHONE))  # two m-lines for our one
    s.create_offer()
    with pytest.raises(SdpNegotiationError):
        s.process_answer(parse_sdp(SIPP_UAC.replace("RTP/AVP 0", "RTP/AVP 18").replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000")))
