"""RTP packet parse/serialize (RFC 3550 §5.1)."""

from __future__ import annotations

import dataclasses

import pytest

from hotline.media.errors import MediaParseError, RtpParseError
from hotline.media.rtp import RtpExtension, RtpPacket, is_rtcp


def test_minimal_pcmu_packet_parses_every_header_field() -> None:
    raw = bytes.fromhex("80 00 1f 40 00 00 a0 00 de ad be ef") + b"\xff" * 160
    packet = RtpPacket.parse(raw)
    assert packet.version == 2
    assert packet.payload_type == 0
    assert packet.marker is False
    assert packet.sequence_number == 0x1F40
    assert packet.timestamp == 0xA000
    assert packet.ssrc == 0xDEADBEEF
    assert packet.csrcs == ()
    assert packet.extension is None
    assert packet.padding == 0
    assert packet.payload == b"\xff" * 160
    assert packet.serialize() == raw


def test_marker_bit_and_dynamic_payload_type_are_in_the_second_octet() -> None:
    packet = RtpPacket(payload_type=101, sequence_number=1, timestamp=2, ssrc=3, marker=True)
    raw = packet.serialize()
    assert raw[1] == 0x80 | 101
    assert RtpPacket.parse(raw) == packet


def test_csrc_list_extension_and_padding_round_trip() -> None:
    packet = RtpPacket(
        payload_type=8,
        sequence_number=65535,
        timestamp=0xFFFFFFFF,
        ssrc=0x01020304,
        payload=b"\xd5" * 20,
        csrcs=(1, 2, 0xFFFFFFFF),
        extension=RtpExtension(0xBEDE, b"\x10\xaa\x00\x00"),
        padding=4,
    )
    raw = packet.serialize()
    assert raw[0] == 0x80 | 0x20 | 0x10 | 3
    assert raw[-1] == 4
    assert len(raw) == 12 + 12 + 4 + 4 + 20 + 4
    assert RtpPacket.parse(raw) == packet


def test_bytes_of_a_packet_is_its_serialization() -> None:
    packet = RtpPacket(payload_type=0, sequence_number=9, timestamp=9, ssrc=9, payload=b"x")
    assert bytes(packet) == packet.serialize()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "too short"),
        (bytes.fromhex("80 00 00 01 00 00 00 01 00 00 00"), "too short"),
        (bytes.fromhex("40 00 00 01 00 00 00 01 00 00 00 01"), "version"),
        (bytes.fromhex("82 00 00 01 00 00 00 01 00 00 00 01 00 00 00 05"), "CSRC"),
        (bytes.fromhex("90 00 00 01 00 00 00 01 00 00 00 01 be de"), "extension header"),
        (bytes.fromhex("90 00 00 01 00 00 00 01 00 00 00 01 be de 00 02 00 00 00 00"), "extension data"),
        (bytes.fromhex("a0 00 00 01 00 00 00 01 00 00 00 01 aa 00"), "padding"),
        (bytes.fromhex("a0 00 00 01 00 00 00 01 00 00 00 01 aa 05"), "padding"),
    ],
)
def test_malformed_packets_raise_rtp_parse_error(raw: bytes, reason: str) -> None:
    with pytest.raises(RtpParseError, match=reason):
        RtpPacket.parse(raw)


def test_rtp_parse_error_is_a_media_parse_error() -> None:
    assert issubclass(RtpParseError, MediaParseError)


def test_constructor_rejects_out_of_range_fields() -> None:
    with pytest.raises(ValueError):
        RtpPacket(payload_type=128, sequence_number=0, timestamp=0, ssrc=0)
    with pytest.raises(ValueError):
        RtpPacket(payload_type=0, sequence_number=65536, timestamp=0, ssrc=0)
    with pytest.raises(ValueError):
        dataclasses.replace(RtpPacket(0, 0, 0, 0), csrcs=tuple(range(16)))


def test_rtcp_is_distinguished_from_rtp_on_a_muxed_port() -> None:
    assert is_rtcp(bytes.fromhex("80 c8 00 06"))  # SR
    assert is_rtcp(bytes.fromhex("81 c9 00 07"))  # RR
    assert not is_rtcp(bytes.fromhex("80 00 00 01"))  # PCMU
    assert not is_rtcp(bytes.fromhex("80 e5 00 01"))  # PT 101 with marker
    assert not is_rtcp(b"\x80")
