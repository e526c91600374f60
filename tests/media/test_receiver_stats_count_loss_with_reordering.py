"""Cumulative and fraction lost with reordering and duplicates (RFC 3550 A.3)."""

from __future__ import annotations

from hotline.media.rtp import ReceiverStats, RtpPacket


def pkt(seq: int) -> RtpPacket:
    return RtpPacket(payload_type=8, sequence_number=seq & 0xFFFF, timestamp=(seq * 160) & 0xFFFFFFFF, ssrc=7)


def feed(stats: ReceiverStats, seqs: list[int]) -> list[str]:
    return [stats.update(pkt(s), i * 0.02) for i, s in enumerate(seqs)]


def test_reordered_packets_are_not_counted_as_lost() -> None:
    stats = ReceiverStats()
    outcomes = feed(stats, [100, 102, 101, 104, 103, 105])
    assert outcomes == ["in_order", "in_order", "reordered", "in_order", "reordered", "in_order"]
    assert stats.expected == 6
    assert stats.cumulative_lost == 0
    assert stats.reordered == 2


def test_loss_with_reordering_counts_only_the_really_missing_packets() -> None:
    stats = ReceiverStats()
    feed(stats, [1, 3, 2, 6, 5, 9, 10])  # 4, 7, 8 never arrive
    assert stats.expected == 10
    assert stats.received == 7
    assert stats.cumulative_lost == 3


def test_duplicates_do_not_mask_loss() -> None:
    stats = ReceiverStats()
    outcomes = feed(stats, [1, 2, 2, 4, 2, 4, 5])  # 3 lost, three duplicates
    assert outcomes.count("duplicate") == 3
    assert stats.duplicates == 3
    assert stats.cumulative_lost == 1


def test_fraction_lost_covers_only_the_interval_since_the_last_report() -> None:
    stats = ReceiverStats()
    feed(stats, [1, 2, 4])  # 1 of 4 lost
    first = stats.report_block(1.0)
    assert first.fraction_lost == 64  # 1/4 * 256
    feed(stats, [5, 6, 7, 8])
    second = stats.report_block(2.0)
    assert second.fraction_lost == 0
    assert second.cumulative_lost == 1


def test_late_packet_recovering_a_loss_reduces_cumulative_loss() -> None:
    stats = ReceiverStats()
    feed(stats, [10, 11, 13])
    assert stats.cumulative_lost == 1
    assert stats.update(pkt(12), 1.0) == "reordered"
    assert stats.cumulative_lost == 0


def test_packet_older_than_the_first_one_extends_the_base() -> None:
    stats = ReceiverStats()
    feed(stats, [50, 52, 49])
    assert stats.base_seq == 49
    assert stats.expected == 4
    assert stats.cumulative_lost == 1


def test_a_packet_more_than_100_behind_is_treated_as_a_jump_not_a_reorder() -> None:
    stats = ReceiverStats()
    feed(stats, list(range(1, 102)))  # 1..101
    assert stats.update(pkt(0), 5.0) == "ignored"  # 101 behind: RFC 3550 MAX_MISORDER
    assert stats.update(pkt(2), 5.0) == "duplicate"
