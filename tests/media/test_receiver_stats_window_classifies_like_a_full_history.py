"""ReceiverStats' 1 KiB duplicate window classifies every packet as a full history would.

The statistics remember the last 1024 extended sequence numbers in a ring of
one-byte flags instead of a set of up to 2,048 integers (about 120 KiB per
stream).  Against a reference that keeps *every* extended sequence number
ever accepted (and the same RFC 3550 A.1 rules), random streams with loss,
reordering, duplicates, wraparound, large jumps and restarts must get the
same classification for every packet and the same counters, loss and jitter.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.media.rtp import MAX_DROPOUT, MAX_MISORDER, ReceiverStats, RtpPacket, seq_delta

MOD = 1 << 16


class FullHistory:
    """RFC 3550 A.1 with an unbounded set of the sequence numbers received."""

    def __init__(self) -> None:
        self.initialized = False
        self.max_seq = self.cycles = self.base = self.received = self.duplicates = self.reordered = 0
        self.bad_seq = MOD + 1
        self.seen: set[int] = set()

    def _init(self, seq: int) -> None:
        self.base = self.max_seq = seq
        self.bad_seq = MOD + 1
        self.cycles = self.received = 0
        self.seen = set()
        self.initialized = True

    def update(self, seq: int) -> str:
        if not self.initialized:
            self._init(seq)
            ext, result = seq, "in_order"
        else:
            udelta = (seq - self.max_seq) & 0xFFFF
            if udelta == 0:
                self.duplicates += 1
                return "duplicate"
            if udelta < MAX_DROPOUT:
                if seq < self.max_seq:
                    self.cycles += MOD
                self.max_seq = seq
                ext, result = self.cycles + seq, "in_order"
            elif udelta <= MOD - MAX_MISORDER:
                if seq == self.bad_seq:
                    self._init(seq)
                    ext, result = seq, "restarted"
                else:
                    self.bad_seq = (seq + 1) & 0xFFFF
                    return "ignored"
            else:
                ext = self.cycles + self.max_seq + seq_delta(seq, self.max_seq)
                if ext in self.seen:
                    self.duplicates += 1
                    return "duplicate"
                self.base = min(self.base, ext)
                self.reordered += 1
                result = "reordered"
        self.seen.add(ext)
        self.received += 1
        return result


steps = st.lists(
    st.one_of(
        st.integers(1, 3),  # in order, small gaps (loss)
        st.integers(-MAX_MISORDER + 1, -1),  # late packets
        st.just(0),  # duplicate of the last one
        st.integers(900, 1100),  # a jump across the window size
        st.integers(MAX_DROPOUT, 30000),  # a big jump (ignored, or a restart when repeated)
    ),
    min_size=1,
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, MOD - 1), deltas=steps, repeat_every=st.integers(2, 9))
def test_receiver_stats_window_classifies_like_a_full_history(start: int, deltas: list[int], repeat_every: int) -> None:
    stats, ref = ReceiverStats(8000), FullHistory()
    seq, t, sent = start, 0.0, []
    for i, delta in enumerate(deltas):
        seq = (seq + delta) & 0xFFFF
        sent.append(seq)
        if i % repeat_every == 0 and len(sent) > 3:  # also resend an older packet now and then
            sent.append(sent[-3])
    for n, s in enumerate(sent):
        t += 0.02
        packet = RtpPacket(0, s, (s * 160) & 0xFFFFFFFF, 0x1234)
        got = stats.update(packet, t) if n % 2 else stats.update_fields(0x1234, s, (s * 160) & 0xFFFFFFFF, t)
        assert got == ref.update(s), f"packet {n} (seq {s})"
        assert stats.received == ref.received and stats.duplicates == ref.duplicates
    assert stats.reordered == ref.reordered
    assert stats.base_seq == ref.base
    assert stats.extended_highest_sequence == ref.cycles + ref.max_seq
    assert stats.cumulative_lost == stats.expected - ref.received


def test_the_window_takes_about_one_kib_per_stream() -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        stats = ReceiverStats(8000)
        for s in range(20000):  # long enough for the old set to reach its 2,048-entry bound
            stats.update_fields(7, s & 0xFFFF, s * 160, s * 0.02)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(d.size_diff for d in after.compare_to(before, "filename"))
    assert stats.received == 20000 and stats.cumulative_lost == 0
    assert grown < 4096, f"{grown} bytes for one stream's statistics"


def test_a_late_packet_after_a_forward_jump_is_not_taken_for_an_old_one() -> None:
    # 0..199 arrive, then 1200 (1000 lost), then the late 1150: its ring slot (1150 % 1024
    # = 126) last held sequence number 126, which was received; it must read as new.
    stats = ReceiverStats(8000)
    for s in range(200):
        assert stats.update_fields(1, s, s * 160, s * 0.02) == "in_order"
    assert stats.update_fields(1, 1200, 1200 * 160, 4.1) == "in_order"
    assert stats.update_fields(1, 1150, 1150 * 160, 4.2) == "reordered"
    assert stats.update_fields(1, 1150, 1150 * 160, 4.3) == "duplicate"
    assert stats.update_fields(1, 1199, 1199 * 160, 4.4) == "reordered"
    assert stats.received == 203 and stats.cumulative_lost == 1201 - 203
