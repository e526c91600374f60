"""Interarrival jitter, RFC 3550 A.8, against a hand-computed example."""

from __future__ import annotations

import pytest

from hotline.media.rtp import ReceiverStats, RtpPacket, SenderReport


def pkt(seq: int, ts: int) -> RtpPacket:
    return RtpPacket(payload_type=0, sequence_number=seq, timestamp=ts & 0xFFFFFFFF, ssrc=42)


def test_jitter_matches_a_hand_computed_example() -> None:
    # 8 kHz, 20 ms packets (160 timestamp units).
    #   pkt  ts   arrival   D(i-1,i) in ts units          J
    #   1    0    0.000     -                             0
    #   2    160  0.020     |160-160| = 0                 0
    #   3    320  0.050     |240-160| = 80                0 + (80-0)/16 = 5
    #   4    480  0.060     |80-160|  = 80                5 + (80-5)/16 = 9.6875
    #   5    640  0.080     |160-160| = 0                 9.6875 - 9.6875/16 = 9.08203125
    stats = ReceiverStats(clock_rate=8000)
    arrivals = [0.000, 0.020, 0.050, 0.060, 0.080]
    expected = [0.0, 0.0, 5.0, 9.6875, 9.08203125]
    for i, (arrival, jitter) in enumerate(zip(arrivals, expected)):
        stats.update(pkt(i + 1, i * 160), arrival)
        assert stats.jitter == pytest.approx(jitter)
    assert stats.jitter_ms == pytest.approx(9.08203125 / 8)
    assert stats.report_block(0.1).jitter == 9


def test_jitter_is_unaffected_by_timestamp_wraparound() -> None:
    stats = ReceiverStats()
    base = 0xFFFFFF00
    for i in range(6):
        stats.update(pkt(i, base + i * 160), i * 0.02)
    assert stats.jitter == pytest.approx(0.0)


def test_perfectly_paced_stream_has_zero_jitter_with_any_offset() -> None:
    stats = ReceiverStats()
    for i in range(50):
        stats.update(pkt(i, 123_456 + i * 160), 1000.5 + i * 0.02)
    assert stats.jitter == pytest.approx(0.0, abs=1e-6)


def test_duplicates_do_not_feed_the_jitter_estimator() -> None:
    stats = ReceiverStats()
    stats.update(pkt(1, 0), 0.0)
    stats.update(pkt(2, 160), 0.02)
    assert stats.update(pkt(2, 160), 0.5) == "duplicate"
    assert stats.jitter == 0.0


def test_report_block_carries_lsr_and_dlsr_after_a_sender_report() -> None:
    stats = ReceiverStats()
    stats.update(pkt(1, 0), 0.0)
    sr = SenderReport(ssrc=42, ntp_timestamp=0x0000_1234_5678_0000, rtp_timestamp=0, packet_count=1, octet_count=160)
    stats.on_sender_report(sr, now=10.0)
    block = stats.report_block(now=10.5)
    assert block.ssrc == 42
    assert block.last_sr == 0x1234_5678
    assert block.delay_since_last_sr == 32768  # 0.5 s in 1/65536 s units
