"""Extended highest sequence number across the 65535 -> 0 wrap (RFC 3550 A.1)."""

from __future__ import annotations

from hotline.media.rtp import ReceiverStats, RtpPacket


def pkt(seq: int, ts: int = 0, ssrc: int = 0x1234) -> RtpPacket:
    return RtpPacket(payload_type=0, sequence_number=seq & 0xFFFF, timestamp=ts & 0xFFFFFFFF, ssrc=ssrc)


def test_sequence_wrapping_from_65535_to_0_adds_a_cycle() -> None:
    stats = ReceiverStats()
    for i, seq in enumerate([65533, 65534, 65535, 0, 1, 2]):
        assert stats.update(pkt(seq, i * 160), i * 0.02) == "in_order"
    assert stats.cycles == 65536
    assert stats.max_seq == 2
    assert stats.extended_highest_sequence == 65536 + 2
    assert stats.expected == 6
    assert stats.received == 6
    assert stats.cumulative_lost == 0


def test_a_reordered_packet_from_before_the_wrap_does_not_add_a_cycle() -> None:
    stats = ReceiverStats()
    for seq in [65534, 0, 1, 65535]:
        stats.update(pkt(seq), 0.0)
    assert stats.extended_highest_sequence == 65536 + 1
    assert stats.reordered == 1
    assert stats.expected == 4 and stats.received == 4


def test_loss_across_the_wrap_is_counted() -> None:
    stats = ReceiverStats()
    for seq in [65530, 65531, 3, 4]:  # 65532..65535, 0, 1, 2 lost
        stats.update(pkt(seq), 0.0)
    assert stats.expected == 11
    assert stats.cumulative_lost == 7
    block = stats.report_block(1.0)
    assert block.highest_sequence == 0x0001_0004
    assert block.cumulative_lost == 7
    assert block.fraction_lost == (7 * 256) // 11


def test_many_cycles_accumulate() -> None:
    stats = ReceiverStats()
    seq = 100
    for _ in range(200):  # 100 + 199 * 1000 = 199100 > 3 * 65536
        stats.update(pkt(seq), 0.0)
        seq = (seq + 1000) & 0xFFFF
    assert stats.cycles == 3 * 65536
    assert stats.cumulative_lost == stats.expected - stats.received


def test_a_large_jump_is_ignored_until_two_sequential_packets_resync() -> None:
    stats = ReceiverStats()
    stats.update(pkt(10), 0.0)
    stats.update(pkt(11), 0.02)
    assert stats.update(pkt(40000), 0.04) == "ignored"
    assert stats.update(pkt(40001), 0.06) == "restarted"
    assert stats.base_seq == 40001
    assert stats.received == 1
    assert stats.update(pkt(40002), 0.08) == "in_order"
    assert stats.cumulative_lost == 0


def test_packets_from_another_ssrc_are_ignored() -> None:
    stats = ReceiverStats()
    stats.update(pkt(1, ssrc=1), 0.0)
    assert stats.update(pkt(2, ssrc=2), 0.0) == "ignored"
    assert stats.received == 1
