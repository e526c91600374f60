"""RTCP SR/RR/SDES/BYE parse/serialize, compound packets (RFC 3550 §6)."""

from __future__ import annotations

import pytest

from hotline.media.errors import RtcpParseError
from hotline.media.rtp import (
    RTCP_APP,
    SDES_CNAME,
    Bye,
    ReceiverReport,
    ReportBlock,
    RtcpPacket,
    RtcpUnknown,
    SdesChunk,
    SenderReport,
    SourceDescription,
    compact_ntp,
    ntp_from_seconds,
    parse_rtcp,
    serialize_rtcp,
)

BLOCK = ReportBlock(
    ssrc=0x11223344,
    fraction_lost=64,
    cumulative_lost=1234,
    highest_sequence=0x0001_0005,
    jitter=37,
    last_sr=0xAABBCCDD,
    delay_since_last_sr=65536,
)


def test_sender_report_with_sdes_cname_round_trips_as_a_compound_packet() -> None:
    sr = SenderReport(
        ssrc=0xCAFEBABE,
        ntp_timestamp=ntp_from_seconds(1_700_000_000.5),
        rtp_timestamp=123456,
        packet_count=50,
        octet_count=8000,
        reports=(BLOCK,),
    )
    sdes = SourceDescription((SdesChunk(0xCAFEBABE, ((SDES_CNAME, b"agent-7@hotline"),)),))
    raw = serialize_rtcp([sr, sdes])
    assert raw[0] == 0x81 and raw[1] == 200
    # 4 header + 24 sender info + 24 report block = 52 octets = 13 words, length = 12
    assert int.from_bytes(raw[2:4], "big") == 12
    assert len(raw) % 4 == 0
    packets = parse_rtcp(raw)
    assert packets == [sr, sdes]
    assert isinstance(packets[1], SourceDescription)
    assert packets[1].chunks[0].cname == b"agent-7@hotline"


def test_receiver_report_bye_and_unknown_packets_round_trip() -> None:
    rr = ReceiverReport(ssrc=7, reports=(BLOCK, ReportBlock(8, 0, 0, 0, 0)))
    bye = Bye((7, 9), b"call ended")
    app = RtcpUnknown(RTCP_APP, 3, b"NAME" + b"\x00\x01\x02\x03")
    raw = serialize_rtcp([rr, bye, app])
    assert parse_rtcp(raw) == [rr, bye, app]


def test_negative_cumulative_loss_is_24_bit_twos_complement() -> None:
    block = ReportBlock(1, 0, -2, 0, 0)
    raw = serialize_rtcp([ReceiverReport(1, (block,))])
    assert raw[12:16] == bytes.fromhex("00 ff ff fe")
    parsed = parse_rtcp(raw)[0]
    assert isinstance(parsed, ReceiverReport)
    assert parsed.reports[0].cumulative_lost == -2


def test_bye_without_reason_and_empty_sdes_items() -> None:
    packets: list[RtcpPacket] = [Bye((1,)), SourceDescription((SdesChunk(5, ()), SdesChunk(6, ((2, b"n"),))))]
    assert parse_rtcp(serialize_rtcp(packets)) == packets


def test_hand_encoded_receiver_report_from_the_wire() -> None:
    raw = bytes.fromhex(
        "81 c9 00 07"  # V=2 RC=1 PT=201 length=7
        "00 00 00 01"  # sender SSRC
        "00 00 00 02"  # source SSRC
        "19 00 00 0a"  # fraction 25/256, 10 lost
        "00 01 ff fe"  # cycles=1, highest=65534
        "00 00 00 28"  # jitter 40
        "00 00 00 00 00 00 00 00"
    )
    (rr,) = parse_rtcp(raw)
    assert isinstance(rr, ReceiverReport)
    assert rr.reports[0] == ReportBlock(2, 25, 10, 0x1FFFE, 40, 0, 0)
    assert serialize_rtcp([rr]) == raw


def test_padding_on_the_last_packet_is_stripped() -> None:
    raw = bytes.fromhex("a1 cb 00 02 00 00 00 01 00 00 00 04")  # BYE SC=1, P=1, 4 padding octets
    assert parse_rtcp(raw) == [Bye((1,))]


def test_ntp_helpers() -> None:
    ntp = ntp_from_seconds(0.0)
    assert ntp >> 32 == 2_208_988_800
    assert compact_ntp(0x1234_5678_9ABC_DEF0) == 0x5678_9ABC


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x81\xc9",
        bytes.fromhex("41 c9 00 01 00 00 00 01"),  # version 1
        bytes.fromhex("81 c9 00 05 00 00 00 01"),  # length beyond datagram
        bytes.fromhex("81 c9 00 01 00 00 00 01"),  # RC=1 but no block
        bytes.fromhex("80 c8 00 01 00 00 00 01"),  # SR too short
        bytes.fromhex("81 ca 00 01 00 00 00 01"),  # SDES not terminated
        bytes.fromhex("81 ca 00 02 00 00 00 01 01 09 61 62"),  # SDES item truncated
        bytes.fromhex("a0 cb 00 01 00 00 00 00"),  # padding count 0
        bytes.fromhex("a0 cb 00 01 00 00 00 01 80 cb 00 00"),  # padding not on the last packet
        bytes.fromhex("82 cb 00 01 00 00 00 01"),  # BYE SC=2 but one SSRC
        bytes.fromhex("80 cb 00 01 05 61 62 00"),  # BYE reason truncated
        bytes.fromhex("80 cc 00 01 00 00 00"),  # APP body shorter than length
    ],
)
def test_malformed_rtcp_raises_rtcp_parse_error(raw: bytes) -> None:
    with pytest.raises(RtcpParseError):
        parse_rtcp(raw)
