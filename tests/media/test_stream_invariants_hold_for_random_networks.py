"""Property tests: loss accounting and playout order under random networks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.media.rtp import Gap, JitterBuffer, Playout, ReceiverStats, RtpPacket

PROPS = settings(max_examples=200, deadline=None)


@st.composite
def network(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    """(first seq, count, arrival order of the indexes that survived)."""
    first = draw(st.integers(0, 0xFFFF))
    count = draw(st.integers(1, 300))
    kept = [i for i in range(count) if not draw(st.booleans()) or i in (0, count - 1)]
    # Local reordering: swap disjoint neighbour pairs, so that no packet moves
    # by more than one place (far below RFC 3550's MAX_MISORDER of 100, beyond
    # which a late packet is treated as a sequence jump).
    order = list(kept)
    i = 0
    while i < len(order) - 1:
        if draw(st.integers(0, 4)) == 0:
            order[i], order[i + 1] = order[i + 1], order[i]
            i += 1
        i += 1
    dups = draw(st.lists(st.sampled_from(kept), max_size=10))
    for d in dups:
        pos = order.index(d) + 1
        order.insert(pos, d)
    return first, count, order


def packet(first: int, index: int) -> RtpPacket:
    return RtpPacket(0, (first + index) & 0xFFFF, (1000 + index * 160) & 0xFFFFFFFF, 77, b"x")


@PROPS
@given(network())
def test_receiver_stats_count_exactly_the_missing_packets(net: tuple[int, int, list[int]]) -> None:
    first, count, order = net
    stats = ReceiverStats()
    for t, index in enumerate(order):
        stats.update(packet(first, index), t * 0.02)
    unique = set(order)
    # The first arrival might not be index 0 (swapped); base follows the oldest.
    assert stats.received == len(unique)
    assert stats.expected == max(unique) - min(unique) + 1
    assert stats.cumulative_lost == stats.expected - len(unique)
    assert stats.duplicates == len(order) - len(unique)
    assert stats.extended_highest_sequence - stats.base_seq == max(unique) - min(unique)


@PROPS
@given(network(), st.floats(0.0, 0.1))
def test_jitter_buffer_plays_in_order_without_duplicates(net: tuple[int, int, list[int]], depth: float) -> None:
    first, count, order = net
    jb = JitterBuffer(depth_ms=depth * 1000, max_packets=400)
    items: list[Playout | Gap] = []
    results: list[str] = []
    now = 0.0
    for index in order:
        now += 0.02
        results.append(jb.push(packet(first, index), now))
        while (item := jb.pop(now)) is not None:
            items.append(item)
    while (item := jb.pop(1e9)) is not None:
        items.append(item)
    # Items tile a contiguous range of extended sequence numbers.
    cursor: int | None = None
    played: list[int] = []
    for item in items:
        start = item.extended_sequence if isinstance(item, Playout) else item.extended_first
        assert cursor is None or start == cursor
        if isinstance(item, Playout):
            played.append(item.extended_sequence)
            cursor = start + 1
        else:
            assert item.count > 0
            cursor = start + item.count
    assert played == sorted(set(played))
    # Every queued packet is played exactly once; nothing is left behind.
    assert results.count("queued") == len(played) == jb.played
    assert len(jb) == 0
    assert results.count("duplicate") + results.count("late") + len(played) == len(order)
    assert {p & 0xFFFF for p in played} <= {(first + i) & 0xFFFF for i in order}
