"""RFC 4733 telephone-event payload format and digit mapping."""

from __future__ import annotations

import pytest

from hotline.media.dtmf import FLASH, TelephoneEvent, digit_for_event, event_for_digit, event_payloads
from hotline.media.errors import DtmfParseError


def test_payload_fields_are_decoded_from_the_wire() -> None:
    # event 5, E=1, R=0, volume 10, duration 800
    ev = TelephoneEvent.parse(bytes.fromhex("05 8a 03 20"))
    assert ev == TelephoneEvent(event=5, end=True, volume=10, duration=800)
    assert ev.serialize() == bytes.fromhex("05 8a 03 20")


def test_reserved_bit_is_preserved() -> None:
    ev = TelephoneEvent.parse(bytes.fromhex("0b 4f ff ff"))
    assert ev.reserved and not ev.end and ev.volume == 15 and ev.duration == 65535
    assert bytes(ev) == bytes.fromhex("0b 4f ff ff")


@pytest.mark.parametrize("raw", [b"", b"\x01\x02\x03", b"\x01\x02\x03\x04\x05"])
def test_bad_payload_lengths_raise_dtmf_parse_error(raw: bytes) -> None:
    with pytest.raises(DtmfParseError):
        TelephoneEvent.parse(raw)


def test_all_sixteen_digits_and_flash_map_to_event_codes() -> None:
    digits = "0123456789*#ABCD" + FLASH
    assert [event_for_digit(d) for d in digits] == list(range(17))
    assert [digit_for_event(e) for e in range(17)] == list(digits)
    assert event_for_digit("b") == 13
    assert digit_for_event(17) is None
    with pytest.raises(ValueError):
        event_for_digit("E")
    with pytest.raises(ValueError):
        event_for_digit(17)


def test_event_payload_sequence_grows_duration_and_repeats_the_end_three_times() -> None:
    payloads = event_payloads(1, 800, 160)
    assert [(p.duration, p.end) for p in payloads] == [
        (160, False),
        (320, False),
        (480, False),
        (640, False),
        (800, True),
        (800, True),
        (800, True),
    ]
    # A non-multiple duration ends exactly on the requested length.
    assert [p.duration for p in event_payloads(1, 500, 160)] == [160, 320, 480, 500, 500, 500]
    # A very short event is only end packets.
    assert [p.end for p in event_payloads(1, 100, 160)] == [True, True, True]
