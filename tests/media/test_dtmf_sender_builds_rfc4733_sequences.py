"""DtmfSender: marker, shared timestamp, end redundancy, clock advance."""

from __future__ import annotations

import random

from hotline.media.dtmf import DtmfSender, TelephoneEvent
from hotline.media.rtp import RtpSender


def test_digit_packets_share_one_timestamp_and_mark_only_the_first() -> None:
    rtp = RtpSender(0, rng=random.Random(11))
    start_ts, start_seq = rtp.timestamp, rtp.sequence_number
    tx = DtmfSender(rtp, payload_type=101)
    packets = tx.packets("5", duration_ms=100, ptime_ms=20)
    assert len(packets) == 4 + 3
    assert {p.timestamp for p in packets} == {start_ts}
    assert [p.marker for p in packets] == [True] + [False] * 6
    assert [p.sequence_number for p in packets] == [(start_seq + i) & 0xFFFF for i in range(7)]
    assert {p.payload_type for p in packets} == {101}
    events = [TelephoneEvent.parse(p.payload) for p in packets]
    assert [e.event for e in events] == [5] * 7
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert [e.duration for e in events][-3:] == [800, 800, 800]


def test_the_media_clock_resumes_after_the_digit() -> None:
    rtp = RtpSender(0, rng=random.Random(12))
    audio_before = rtp.send(b"\xff" * 160, 160)
    DtmfSender(rtp).packets("1", duration_ms=100)
    audio_after = rtp.send(b"\xff" * 160, 160)
    assert audio_after.timestamp == audio_before.timestamp + 160 + 800
    assert audio_after.sequence_number == (audio_before.sequence_number + 8) & 0xFFFF


def test_schedule_spaces_packets_by_ptime() -> None:
    tx = DtmfSender(RtpSender(0, rng=random.Random(13)))
    offsets = [t for t, _ in tx.schedule("#", duration_ms=60, ptime_ms=20)]
    assert offsets == [0.0, 0.02, 0.04, 0.06, 0.08]
