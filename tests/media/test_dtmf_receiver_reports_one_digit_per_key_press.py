"""DtmfReceiver: redundancy, loss, duplicates, stragglers, timeouts."""

from __future__ import annotations

import random

from hotline.media.dtmf import DtmfReceiver, DtmfSender, TelephoneEvent
from hotline.media.rtp import RtpPacket, RtpSender


def digit_packets(digit: str, duration_ms: float = 100, seed: int = 0) -> list[RtpPacket]:
    sender = DtmfSender(RtpSender(0, rng=random.Random(seed)))
    return sender.packets(digit, duration_ms)


def run(receiver: DtmfReceiver, packets: list[RtpPacket]) -> list[str]:
    out: list[str] = []
    for i, p in enumerate(packets):
        out += [d.digit for d in receiver.feed(p, i * 0.02)]
    return out


def test_a_clean_digit_with_three_end_packets_gives_one_event() -> None:
    rx = DtmfReceiver()
    packets = digit_packets("7", 120)
    results = [rx.feed(p, 0.0) for p in packets]
    emitted = [d for r in results for d in r]
    assert len(emitted) == 1
    assert emitted[0].digit == "7" and emitted[0].ended
    assert emitted[0].duration == 960 and emitted[0].duration_ms == 120
    # Emitted at the first end packet, not at the retransmissions.
    assert [bool(r) for r in results] == [False] * 5 + [True, False, False]


def test_lost_start_packets_still_give_the_digit() -> None:
    rx = DtmfReceiver()
    packets = digit_packets("#")
    assert run(rx, packets[2:]) == ["#"]


def test_only_one_end_packet_surviving_gives_the_digit() -> None:
    rx = DtmfReceiver()
    packets = digit_packets("0")
    assert run(rx, [packets[-1]]) == ["0"]


def test_duplicated_and_reordered_end_packets_do_not_repeat_the_digit() -> None:
    rx = DtmfReceiver()
    packets = digit_packets("5")
    stream = packets + [packets[-1], packets[-2], packets[1], packets[0]]
    assert run(rx, stream) == ["5"]


def test_the_same_digit_pressed_twice_gives_two_events() -> None:
    rx = DtmfReceiver()
    tx = DtmfSender(RtpSender(0, rng=random.Random(9)))
    packets = tx.packets("1") + tx.packets("1")
    assert run(rx, packets) == ["1", "1"]


def test_all_end_packets_lost_is_closed_by_the_next_digit() -> None:
    rx = DtmfReceiver()
    tx = DtmfSender(RtpSender(0, rng=random.Random(4)))
    first = tx.packets("2")[:-3]
    second = tx.packets("3")
    digits = [d for i, p in enumerate(first + second) for d in rx.feed(p, i * 0.02)]
    assert [(d.digit, d.ended) for d in digits] == [("2", False), ("3", True)]


def test_all_end_packets_lost_is_closed_by_timeout() -> None:
    rx = DtmfReceiver(timeout=0.5)
    packets = digit_packets("9")[:-3]
    assert run(rx, packets) == []
    assert rx.current == "9"
    assert rx.expire(0.3) == []
    expired = rx.expire(1.0)
    assert [(d.digit, d.ended) for d in expired] == [("9", False)]
    assert rx.current is None
    assert rx.expire(5.0) == []
    # A late retransmitted end packet of that event is ignored.
    assert rx.feed(digit_packets("9")[-1], 1.1) == []


def test_packets_of_an_older_event_are_ignored() -> None:
    rx = DtmfReceiver()
    tx = DtmfSender(RtpSender(0, rng=random.Random(6)))
    first = tx.packets("4")
    second = tx.packets("6")
    assert run(rx, first + second + [first[2]]) == ["4", "6"]


def test_flash_and_letters_are_reported() -> None:
    rx = DtmfReceiver()
    tx = DtmfSender(RtpSender(0, rng=random.Random(1)))
    assert run(rx, tx.packets("!") + tx.packets("D") + tx.packets("*")) == ["!", "D", "*"]


def test_audio_packets_and_malformed_payloads_are_ignored() -> None:
    rx = DtmfReceiver(payload_type=101)
    audio = RtpPacket(0, 1, 1, 1, b"\xff" * 160)
    bad = RtpPacket(101, 2, 1, 1, b"\x01\x02")
    assert rx.feed(audio, 0.0) == [] and rx.feed(bad, 0.0) == []
    assert rx.malformed == 1


def test_unknown_event_codes_are_swallowed() -> None:
    rx = DtmfReceiver()
    tone = RtpPacket(101, 1, 1000, 1, TelephoneEvent(70, True, 10, 800).serialize(), marker=True)
    assert rx.feed(tone, 0.0) == []


def test_long_event_segments_are_joined_into_one_key_press() -> None:
    rx = DtmfReceiver()
    seg1 = RtpPacket(101, 1, 1000, 1, TelephoneEvent(5, False, 10, 0xFFFF).serialize(), marker=True)
    seg2 = RtpPacket(101, 2, 1000 + 0xFFFF, 1, TelephoneEvent(5, False, 10, 1000).serialize())
    end = RtpPacket(101, 3, 1000 + 0xFFFF, 1, TelephoneEvent(5, True, 10, 2000).serialize())
    assert rx.feed(seg1, 0.0) == [] and rx.feed(seg2, 8.0) == []
    (digit,) = rx.feed(end, 8.2)
    assert digit.digit == "5" and digit.duration == 0xFFFF + 2000 and digit.timestamp == 1000 + 0xFFFF


def test_new_ssrc_closes_the_pending_digit() -> None:
    rx = DtmfReceiver()
    a = digit_packets("1", seed=1)[:-3]
    b = digit_packets("2", seed=2)
    assert run(rx, a + b) == ["1", "2"]
