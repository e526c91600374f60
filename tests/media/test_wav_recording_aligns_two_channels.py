"""Stereo WAV recording: header, interleaving, timestamp alignment, writer."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from hotline.media.errors import WavParseError
from hotline.media.wav import (
    LEFT,
    RIGHT,
    StereoAligner,
    WavWriter,
    interleave,
    parse_wav_header,
    wav_bytes,
    wav_header,
)


def test_header_is_canonical_and_readable_by_the_wave_module() -> None:
    frames = interleave(np.array([1, 2, 3], dtype=np.int16), np.array([-1, -2, -3], dtype=np.int16))
    blob = wav_header(len(frames)) + frames
    assert len(wav_header(0)) == 44
    with wave.open(io.BytesIO(blob)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (2, 2, 8000, 3)
        assert w.readframes(3) == frames
    fmt = parse_wav_header(blob)
    assert (fmt.channels, fmt.sample_rate, fmt.bits, fmt.data_offset, fmt.frames) == (2, 8000, 16, 44, 3)


def test_wav_bytes_builds_a_whole_file() -> None:
    blob = wav_bytes(np.zeros(80, dtype=np.int16), np.ones(80, dtype=np.int16))
    assert len(blob) == 44 + 80 * 4
    assert parse_wav_header(blob).frames == 80


def test_interleave_puts_caller_left_and_agent_right() -> None:
    raw = interleave(np.array([1, 2], dtype=np.int16), np.array([3, 4], dtype=np.int16))
    assert np.frombuffer(raw, dtype="<i2").tolist() == [1, 3, 2, 4]
    with pytest.raises(ValueError):
        interleave(np.zeros(2, dtype=np.int16), np.zeros(3, dtype=np.int16))


def samples(start: int, n: int) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.int16)


def test_aligner_fills_gaps_with_silence_and_aligns_channels() -> None:
    al = StereoAligner()
    al.add(LEFT, 0, samples(1, 4))
    al.add(RIGHT, 2, samples(100, 4))  # agent starts 2 samples later
    al.add(LEFT, 6, samples(50, 2))  # left has a 2-sample gap at 4..5
    out = np.frombuffer(al.flush(), dtype="<i2").reshape(-1, 2)
    assert out[:, 0].tolist() == [1, 2, 3, 4, 0, 0, 50, 51]
    assert out[:, 1].tolist() == [0, 0, 100, 101, 102, 103, 0, 0]
    assert al.released == 8


def test_release_is_incremental_and_late_audio_is_dropped() -> None:
    al = StereoAligner()
    al.add(LEFT, 0, samples(1, 10))
    first = al.release(4)
    assert len(first) == 4 * 4
    al.add(RIGHT, 2, samples(100, 4))  # positions 2, 3 already released
    assert al.dropped_samples == 2
    rest = np.frombuffer(al.release(10), dtype="<i2").reshape(-1, 2)
    assert rest[:, 0].tolist() == list(range(5, 11))
    assert rest[:, 1].tolist() == [102, 103, 0, 0, 0, 0]
    assert al.release(10) == b""


def test_rtp_timestamps_map_to_positions_across_wraparound() -> None:
    first = 0xFFFFFF00
    assert StereoAligner.position_from_rtp(first, first, 80) == 80
    assert StereoAligner.position_from_rtp(0x00000060, first, 80) == 80 + 0x160


def test_writer_streams_frames_and_patches_the_header_on_close() -> None:
    buf = io.BytesIO()
    writer = WavWriter(buf)
    writer.write(np.array([1, 2], dtype=np.int16), np.array([3, 4], dtype=np.int16))
    writer.write_frames(interleave(np.array([5], dtype=np.int16), np.array([6], dtype=np.int16)))
    writer.close()
    writer.close()
    with wave.open(io.BytesIO(buf.getvalue())) as w:
        assert w.getnframes() == 3
        assert np.frombuffer(w.readframes(3), dtype="<i2").tolist() == [1, 3, 2, 4, 5, 6]
    with pytest.raises(ValueError):
        writer.write_frames(b"\x00" * 4)


def test_writer_rejects_partial_frames() -> None:
    writer = WavWriter(io.BytesIO())
    with pytest.raises(ValueError):
        writer.write_frames(b"\x00\x00")


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"RIFF\x00\x00\x00\x00WAVX",
        b"RIFF\x00\x00\x00\x00WAVE",
        b"RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00",
        b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x03\x00",
        wav_header(0)[:20] + b"\x03\x00" + wav_header(0)[22:],
    ],
)
def test_malformed_headers_raise_wav_parse_error(blob: bytes) -> None:
    with pytest.raises(WavParseError):
        parse_wav_header(blob)
