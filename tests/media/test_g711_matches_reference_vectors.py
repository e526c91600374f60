"""G.711 µ-law / A-law: reference values, table properties, audioop oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.media import g711

ALL_LINEAR = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
except ImportError:  # Python >= 3.13
    audioop = None  # type: ignore[assignment]

needs_audioop = pytest.mark.skipif(audioop is None, reason="audioop not available")


def test_zero_encodes_to_0xff_in_ulaw_and_0xd5_in_alaw() -> None:
    assert g711.encode_ulaw(np.zeros(3, dtype=np.int16)) == b"\xff\xff\xff"
    assert g711.encode_alaw(np.zeros(3, dtype=np.int16)) == b"\xd5\xd5\xd5"
    assert g711.ULAW_SILENCE == 0xFF and g711.ALAW_SILENCE == 0xD5


def test_known_ulaw_code_words_decode_to_reference_values() -> None:
    decoded = g711.decode_ulaw(bytes([0x00, 0x80, 0xFF, 0x7F, 0x7E, 0xFE]))
    assert decoded.tolist() == [-32124, 32124, 0, 0, -8, 8]


def test_known_alaw_code_words_decode_to_reference_values() -> None:
    decoded = g711.decode_alaw(bytes([0xD5, 0x55, 0xAA, 0x2A, 0x80, 0x00]))
    assert decoded.tolist() == [8, -8, 32256, -32256, 5504, -5504]


def test_full_ulaw_decode_table_is_odd_symmetric_and_monotonic() -> None:
    table = g711.decode_ulaw(ALL_CODES).astype(np.int32)
    # Code c and c ^ 0x80 are the same magnitude with opposite sign.
    assert np.array_equal(table[:128], -table[128:])
    # 0x80..0xFF: positive values decreasing toward 0 at 0xFF.
    assert np.all(np.diff(table[128:]) < 0)
    assert table.max() == 32124 and table.min() == -32124
    assert len(set(table.tolist())) == 255  # +0 and -0 collapse


def test_full_alaw_decode_table_is_odd_symmetric_and_has_no_zero() -> None:
    table = g711.decode_alaw(ALL_CODES).astype(np.int32)
    assert np.array_equal(table[:128], -table[128:])
    assert 0 not in table.tolist()
    assert table.max() == 32256 and table.min() == -32256
    assert len(set(table.tolist())) == 256


def test_decode_then_encode_is_identity_on_every_code_word() -> None:
    ulaw_codes = np.frombuffer(g711.encode_ulaw(g711.decode_ulaw(ALL_CODES)), dtype=np.uint8)
    # 0x7F (negative zero) re-encodes as 0xFF (positive zero); all others exact.
    expected = np.arange(256, dtype=np.uint8)
    expected[0x7F] = 0xFF
    assert np.array_equal(ulaw_codes, expected)
    assert g711.encode_alaw(g711.decode_alaw(ALL_CODES)) == ALL_CODES


def test_round_trip_error_is_bounded_by_half_a_quantisation_step() -> None:
    for encode, decode, rel in (
        (g711.encode_ulaw, g711.decode_ulaw, 1 / 16),
        (g711.encode_alaw, g711.decode_alaw, 1 / 16),
    ):
        back = decode(encode(ALL_LINEAR)).astype(np.int32)
        err = np.abs(back - ALL_LINEAR.astype(np.int32))
        # Logarithmic quantiser: error bounded relative to magnitude,
        # plus a small absolute floor near zero.
        bound = np.abs(ALL_LINEAR.astype(np.int32)) * rel + 16
        big = np.abs(ALL_LINEAR.astype(np.int32)) <= 32124
        assert np.all(err[big] <= bound[big])


def test_encoding_is_monotonic_in_the_decoded_domain() -> None:
    for encode, decode in ((g711.encode_ulaw, g711.decode_ulaw), (g711.encode_alaw, g711.decode_alaw)):
        back = decode(encode(ALL_LINEAR)).astype(np.int32)
        assert np.all(np.diff(back) >= 0)


def test_transcoding_tables_preserve_the_decoded_signal_closely() -> None:
    ulaw = g711.decode_ulaw(ALL_CODES).astype(np.int32)
    via_alaw = g711.decode_alaw(g711.ulaw_to_alaw(ALL_CODES)).astype(np.int32)
    assert np.all(np.abs(ulaw - via_alaw) <= np.abs(ulaw) / 16 + 16)
    alaw = g711.decode_alaw(ALL_CODES).astype(np.int32)
    via_ulaw = g711.decode_ulaw(g711.alaw_to_ulaw(ALL_CODES)).astype(np.int32)
    assert np.all(np.abs(alaw - via_ulaw) <= np.abs(alaw) / 16 + 16)


def test_codec_dispatch_by_sdp_encoding_name() -> None:
    pcm = np.array([0, 1000, -1000], dtype=np.int16)
    assert g711.encode("pcmu", pcm) == g711.encode_ulaw(pcm)
    assert np.array_equal(g711.decode("PCMA", g711.encode("PCMA", pcm)), g711.decode_alaw(g711.encode_alaw(pcm)))
    with pytest.raises(ValueError):
        g711.encode("G729", pcm)


def test_pcm16_bytes_helpers_are_little_endian() -> None:
    assert g711.pcm16_to_bytes(np.array([1, -2], dtype=np.int16)) == b"\x01\x00\xfe\xff"
    assert g711.pcm16_from_bytes(b"\x01\x00\xfe\xff\x07").tolist() == [1, -2]


def test_wider_integer_input_is_saturated_not_wrapped() -> None:
    wide = np.array([40000, -40000], dtype=np.int32)
    assert g711.encode_ulaw(wide) == g711.encode_ulaw(np.array([32767, -32768], dtype=np.int16))


@needs_audioop
def test_ulaw_and_alaw_match_audioop_on_every_sample() -> None:
    raw = ALL_LINEAR.astype("<i2").tobytes()
    assert g711.encode_ulaw(ALL_LINEAR) == audioop.lin2ulaw(raw, 2)
    assert g711.encode_alaw(ALL_LINEAR) == audioop.lin2alaw(raw, 2)
    assert g711.pcm16_to_bytes(g711.decode_ulaw(ALL_CODES)) == audioop.ulaw2lin(ALL_CODES, 2)
    assert g711.pcm16_to_bytes(g711.decode_alaw(ALL_CODES)) == audioop.alaw2lin(ALL_CODES, 2)


@needs_audioop
def test_transcoding_matches_audioop_decode_then_encode() -> None:
    assert g711.ulaw_to_alaw(ALL_CODES) == audioop.lin2alaw(audioop.ulaw2lin(ALL_CODES, 2), 2)
    assert g711.alaw_to_ulaw(ALL_CODES) == audioop.lin2ulaw(audioop.alaw2lin(ALL_CODES, 2), 2)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_decode_without_error(data: bytes) -> None:
    assert len(g711.decode_ulaw(data)) == len(data)
    assert len(g711.decode_alaw(data)) == len(data)
    assert len(g711.ulaw_to_alaw(data)) == len(data)
