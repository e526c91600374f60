"""RtpSender: random initial values, sequence/timestamp progression, marker bit."""

from __future__ import annotations

import random

from hotline.media.rtp import RtpPacket, RtpSender, ntp_from_seconds


def test_initial_ssrc_sequence_and_timestamp_are_random() -> None:
    a = RtpSender(0, rng=random.Random(1))
    b = RtpSender(0, rng=random.Random(2))
    assert (a.ssrc, a.sequence_number, a.timestamp) != (b.ssrc, b.sequence_number, b.timestamp)
    c = RtpSender(0)  # SystemRandom
    assert 0 <= c.ssrc < 2**32


def test_packets_advance_sequence_by_one_and_timestamp_by_samples() -> None:
    sender = RtpSender(8, ssrc=5, sequence_number=65535, timestamp=2**32 - 160, rng=random.Random(0))
    p1 = sender.send(b"\xd5" * 160, 160)
    p2 = sender.send(b"\xd5" * 160, 160)
    p3 = sender.send(b"\xd5" * 160, 160)
    assert [p.sequence_number for p in (p1, p2, p3)] == [65535, 0, 1]
    assert [p.timestamp for p in (p1, p2, p3)] == [2**32 - 160, 0, 160]
    assert {p.ssrc for p in (p1, p2, p3)} == {5}
    assert all(p.payload_type == 8 for p in (p1, p2, p3))
    assert RtpPacket.parse(p2.serialize()) == p2


def test_marker_is_set_on_first_packet_and_after_silence_only() -> None:
    sender = RtpSender(0, rng=random.Random(3))
    first = sender.send(b"a", 160)
    second = sender.send(b"b", 160)
    sender.silence(800)
    after_silence = sender.send(b"c", 160)
    next_one = sender.send(b"d", 160)
    assert [p.marker for p in (first, second, after_silence, next_one)] == [True, False, True, False]
    assert after_silence.timestamp == second.timestamp + 160 + 800
    assert after_silence.sequence_number == (second.sequence_number + 1) & 0xFFFF


def test_event_packets_keep_the_given_timestamp_and_do_not_move_the_clock() -> None:
    sender = RtpSender(0, timestamp=1000, rng=random.Random(4))
    e1 = sender.send_event(b"e", 1000, 101, marker=True)
    e2 = sender.send_event(b"e", 1000, 101, marker=False)
    assert e1.timestamp == e2.timestamp == 1000 == sender.timestamp
    assert e2.sequence_number == (e1.sequence_number + 1) & 0xFFFF
    assert e1.payload_type == 101


def test_sender_report_reflects_counters() -> None:
    sender = RtpSender(0, rng=random.Random(5))
    for _ in range(3):
        sender.send(b"x" * 160, 160)
    sr = sender.sender_report(1_700_000_000.0)
    assert sr.packet_count == 3 and sr.octet_count == 480
    assert sr.ssrc == sender.ssrc and sr.rtp_timestamp == sender.timestamp
    assert sr.ntp_timestamp == ntp_from_seconds(1_700_000_000.0)
