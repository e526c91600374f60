"""Jitter buffer: reordering, late and duplicate packets, gaps, adaptive depth."""

from __future__ import annotations

from hotline.media.rtp import Gap, JitterBuffer, Playout, RtpPacket


def pkt(seq: int, *, marker: bool = False, ssrc: int = 1, ts_base: int = 1000) -> RtpPacket:
    return RtpPacket(
        payload_type=0,
        sequence_number=seq & 0xFFFF,
        timestamp=(ts_base + seq * 160) & 0xFFFFFFFF,
        ssrc=ssrc,
        payload=bytes([seq & 0xFF]),
        marker=marker,
    )


def drain(jb: JitterBuffer, now: float) -> list[Playout | Gap]:
    out: list[Playout | Gap] = []
    while (item := jb.pop(now)) is not None:
        out.append(item)
    return out


def seqs(items: list[Playout | Gap]) -> list[int | str]:
    return [i.packet.sequence_number if isinstance(i, Playout) else f"gap{i.first_sequence}x{i.count}" for i in items]


def test_nothing_is_played_before_the_buffer_depth_has_elapsed() -> None:
    jb = JitterBuffer(depth_ms=60)
    jb.push(pkt(0), 0.0)
    assert jb.pop(0.0) is None
    assert jb.pop(0.059) is None
    item = jb.pop(0.060)
    assert isinstance(item, Playout) and item.packet.sequence_number == 0


def test_out_of_order_arrivals_are_played_in_sequence_order() -> None:
    jb = JitterBuffer(depth_ms=60)
    for seq, t in [(0, 0.0), (2, 0.041), (1, 0.045), (4, 0.081), (3, 0.085)]:
        assert jb.push(pkt(seq), t) == "queued"
    assert seqs(drain(jb, 1.0)) == [0, 1, 2, 3, 4]
    assert jb.played == 5 and jb.lost == 0


def test_playout_is_paced_by_rtp_timestamps() -> None:
    jb = JitterBuffer(depth_ms=40)
    for seq in range(5):
        jb.push(pkt(seq), seq * 0.02)
    assert seqs(drain(jb, 0.040)) == [0]
    assert seqs(drain(jb, 0.060)) == [1]
    assert seqs(drain(jb, 0.100)) == [2, 3]


def test_a_missing_packet_is_reported_as_a_gap_when_its_successor_is_due() -> None:
    jb = JitterBuffer(depth_ms=40)
    for seq in (0, 1, 4):
        jb.push(pkt(seq), seq * 0.02)
    assert seqs(drain(jb, 0.060)) == [0, 1]
    assert drain(jb, 0.099) == []
    items = drain(jb, 0.120)
    assert seqs(items) == ["gap2x2", 4]
    gap = items[0]
    assert isinstance(gap, Gap) and gap.extended_first == 2
    assert jb.lost == 2


def test_a_packet_arriving_after_its_gap_was_reported_is_dropped_as_late() -> None:
    jb = JitterBuffer(depth_ms=20)
    jb.push(pkt(0), 0.0)
    jb.push(pkt(2), 0.04)
    assert seqs(drain(jb, 0.07)) == [0, "gap1x1", 2]
    assert jb.push(pkt(1), 0.08) == "late"
    assert jb.late == 1
    assert jb.push(pkt(0), 0.08) == "late"


def test_duplicates_are_dropped() -> None:
    jb = JitterBuffer(depth_ms=60)
    assert jb.push(pkt(0), 0.0) == "queued"
    assert jb.push(pkt(0), 0.001) == "duplicate"
    assert jb.push(pkt(1), 0.02) == "queued"
    assert jb.push(pkt(1), 0.03) == "duplicate"
    assert jb.duplicates == 2
    assert len(jb) == 2


def test_sequence_wraparound_keeps_order() -> None:
    jb = JitterBuffer(depth_ms=60)
    order = [65534, 0, 65535, 1]
    for i, seq in enumerate(order):
        jb.push(pkt(seq, ts_base=0), i * 0.02)
    assert seqs(drain(jb, 10.0)) == [65534, 65535, 0, 1]


def test_buffer_sized_in_packets() -> None:
    jb = JitterBuffer.in_packets(3, ptime_ms=20)
    assert jb.depth_ms == 60
    jb.push(pkt(0), 0.0)
    assert jb.pop(0.05) is None
    assert jb.pop(0.06) is not None


def test_overflow_drops_the_oldest_packet_which_then_shows_as_a_gap() -> None:
    jb = JitterBuffer(depth_ms=200, max_packets=3)
    for seq in range(5):
        jb.push(pkt(seq), 0.0)
    assert jb.overflows == 2
    assert seqs(drain(jb, 10.0)) == ["gap0x2", 2, 3, 4]


def test_a_new_talkspurt_after_an_underrun_re_anchors_the_schedule() -> None:
    jb = JitterBuffer(depth_ms=40)
    jb.push(pkt(0), 0.0)
    assert seqs(drain(jb, 0.04)) == [0]
    # Silence (DTX): next talkspurt starts with marker, its timestamp jumped 1 s
    # ahead but it arrives 3 s later: schedule restarts from its arrival.
    talk = RtpPacket(0, 1, 1000 + 160 + 8000, 1, b"x", marker=True)
    jb.push(talk, 3.0)
    assert jb.pop(3.039) is None
    assert seqs(drain(jb, 3.04)) == [1]


def test_a_new_ssrc_flushes_the_buffer() -> None:
    jb = JitterBuffer(depth_ms=40)
    jb.push(pkt(0, ssrc=1), 0.0)
    jb.push(pkt(1, ssrc=1), 0.02)
    assert jb.push(pkt(500, ssrc=2), 0.03) == "reset"
    assert seqs(drain(jb, 1.0)) == [500]


def test_adaptive_depth_grows_with_jitter_and_stays_within_bounds() -> None:
    jb = JitterBuffer(adaptive=True, min_depth_ms=20, max_depth_ms=120)
    jb.push(pkt(0), 0.0)
    assert jb.depth_ms == 20  # no jitter observed yet
    # Packets arrive in bursts of 5 every 100 ms: heavy jitter.
    seq = 1
    for burst in range(1, 8):
        for _ in range(5):
            jb.push(pkt(seq), burst * 0.1)
            seq += 1
        drain(jb, burst * 0.1)
    assert jb.jitter_ms > 10
    # Underrun then a marked packet: depth re-chosen from the jitter estimate.
    drain(jb, 100.0)
    jb.push(pkt(seq, marker=True), 100.0)
    assert 20 < jb.depth_ms <= 120
