"""Stereo call recording as 16-bit PCM WAV (caller left, agent right).

Pure building blocks; the engine does the file I/O:

* :func:`wav_header` - the 44-byte canonical RIFF/WAVE header.
* :func:`interleave` - two mono int16 channels -> interleaved frame bytes;
  :func:`wav_bytes` - a whole file in memory.
* :class:`StereoAligner` - accepts each channel's audio at a sample
  position on a common timeline (e.g. derived from RTP timestamps or
  arrival time), fills gaps with silence and releases aligned frame bytes.
* :class:`WavWriter` - streams frames to a binary file-like object and
  patches the header sizes on :meth:`WavWriter.close` when it can seek.
* :func:`parse_wav_header` - reads a header back (tests, tooling).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt

from hotline.media.errors import WavParseError

__all__ = [
    "LEFT",
    "RIGHT",
    "StereoAligner",
    "WavFormat",
    "WavWriter",
    "interleave",
    "parse_wav_header",
    "wav_bytes",
    "wav_header",
]

Int16Array = npt.NDArray[np.int16]

LEFT: Final = 0  # caller
RIGHT: Final = 1  # agent
HEADER_SIZE: Final = 44
_MAX_DATA: Final = 0xFFFFFFFF - 36


def wav_header(data_bytes: int, *, channels: int = 2, sample_rate: int = 8000, bits: int = 16) -> bytes:
    """Canonical 44-byte PCM WAV header for ``data_bytes`` bytes of frames."""
    if not 0 <= data_bytes <= _MAX_DATA:
        raise ValueError("WAV data size out of range")
    block_align = channels * bits // 8
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        channels,
        sample_rate,
        sample_rate * block_align,
        block_align,
        bits,
        b"data",
        data_bytes,
    )


@dataclass(frozen=True, slots=True)
class WavFormat:
    channels: int
    sample_rate: int
    bits: int
    data_offset: int
    data_bytes: int

    @property
    def frames(self) -> int:
        return self.data_bytes // (self.channels * self.bits // 8)


def parse_wav_header(data: bytes | bytearray | memoryview) -> WavFormat:
    """Parse a PCM WAV header; raise :class:`WavParseError` if malformed.

    Walks the RIFF chunks until ``data``; only integer PCM is accepted.
    """
    buf = bytes(data)
    if len(buf) < 12 or buf[0:4] != b"RIFF" or buf[8:12] != b"WAVE":
        raise WavParseError("not a RIFF/WAVE file")
    offset = 12
    fmt: tuple[int, int, int] | None = None
    while True:
        if offset + 8 > len(buf):
            raise WavParseError("no data chunk")
        chunk_id = buf[offset : offset + 4]
        (size,) = struct.unpack_from("<I", buf, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(buf):
                raise WavParseError("fmt chunk truncated")
            tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", buf, body)
            if tag != 1 or channels == 0 or bits not in (8, 16, 24, 32) or rate == 0:
                raise WavParseError("unsupported WAV format")
            if block_align != channels * bits // 8:
                raise WavParseError("inconsistent block alignment")
            fmt = (channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavParseError("data chunk before fmt chunk")
            return WavFormat(fmt[0], fmt[1], fmt[2], body, size)
        offset = body + size + (size & 1)


def interleave(left: npt.ArrayLike, right: npt.ArrayLike) -> bytes:
    """Two equally long int16 channels -> little-endian L/R frame bytes."""
    lch = np.asarray(left, dtype=np.int16).reshape(-1)
    rch = np.asarray(right, dtype=np.int16).reshape(-1)
    if lch.shape != rch.shape:
        raise ValueError("channels must have the same length")
    frames = np.empty((lch.shape[0], 2), dtype="<i2")
    frames[:, 0] = lch
    frames[:, 1] = rch
    return frames.tobytes()


def wav_bytes(left: npt.ArrayLike, right: npt.ArrayLike, *, sample_rate: int = 8000) -> bytes:
    """A complete stereo 16-bit WAV file (header + frames) in memory."""
    frames = interleave(left, right)
    return wav_header(len(frames), channels=2, sample_rate=sample_rate) + frames


class StereoAligner:
    """Aligns two mono streams on a shared sample timeline.

    ``add(channel, position, samples)`` places ``samples`` at sample index
    ``position`` of the timeline (position 0 = recording start).  Audio for
    positions already released is dropped (counted in ``dropped_samples``);
    overlapping audio overwrites earlier audio for the same channel.
    ``release(upto)`` returns interleaved frame bytes for
    ``[released, upto)``, silence wherever a channel had nothing;
    ``flush()`` releases up to the furthest sample received.
    """

    def __init__(self, *, max_pending: int = 8000 * 60) -> None:
        self.released = 0
        self.dropped_samples = 0
        self.max_pending = max_pending
        self._buffers = [np.zeros(0, dtype=np.int16), np.zeros(0, dtype=np.int16)]
        self._end = self.released

    @staticmethod
    def position_from_rtp(timestamp: int, first_timestamp: int, first_position: int = 0) -> int:
        """Timeline position of an RTP timestamp (32-bit wrap-safe).

        ``first_timestamp`` is the stream's RTP timestamp at
        ``first_position`` (e.g. its arrival time in samples since the
        recording started).
        """
        d = (timestamp - first_timestamp) & 0xFFFFFFFF
        if d >= 0x80000000:
            d -= 0x1_0000_0000
        return first_position + d

    def add(self, channel: int, position: int, samples: npt.ArrayLike) -> None:
        if channel not in (LEFT, RIGHT):
            raise ValueError("channel must be LEFT (0) or RIGHT (1)")
        data = np.asarray(samples, dtype=np.int16).reshape(-1)
        if position < self.released:
            skip = min(self.released - position, data.shape[0])
            self.dropped_samples += skip
            data = data[skip:]
            position = self.released
        if data.shape[0] == 0:
            return
        start = position - self.released
        end = start + data.shape[0]
        if end > self.max_pending:
            raise ValueError("audio too far ahead of the released position")
        buf = self._buffers[channel]
        if buf.shape[0] < end:
            grown = np.zeros(end, dtype=np.int16)
            grown[: buf.shape[0]] = buf
            buf = self._buffers[channel] = grown
        buf[start:end] = data
        self._end = max(self._end, position + data.shape[0])

    @property
    def pending_end(self) -> int:
        """Timeline position just after the furthest received sample."""
        return self._end

    def release(self, upto: int) -> bytes:
        """Interleaved frames for ``[released, upto)``; silence fills gaps."""
        count = upto - self.released
        if count <= 0:
            return b""
        if count > self.max_pending:
            raise ValueError("release span too large")
        chans: list[Int16Array] = []
        for i, buf in enumerate(self._buffers):
            out = np.zeros(count, dtype=np.int16)
            n = min(count, buf.shape[0])
            out[:n] = buf[:n]
            self._buffers[i] = buf[n:].copy()
            chans.append(out)
        self.released = upto
        self._end = max(self._end, upto)
        return interleave(chans[0], chans[1])

    def flush(self) -> bytes:
        return self.release(self._end)


class WavWriter:
    """Incremental stereo 16-bit WAV writer on a binary file-like object.

    A header with zero sizes is written first; :meth:`close` rewrites it
    with the real sizes if the stream is seekable (non-seekable streams keep
    the placeholder, which most players accept as "unknown length").
    """

    def __init__(self, stream: BinaryIO, *, sample_rate: int = 8000) -> None:
        self.stream = stream
        self.sample_rate = sample_rate
        self.data_bytes = 0
        self.closed = False
        self._start = stream.tell() if stream.seekable() else 0
        stream.write(wav_header(0, channels=2, sample_rate=sample_rate))

    def write_frames(self, frames: bytes) -> None:
        """Append interleaved 16-bit stereo frame bytes."""
        if self.closed:
            raise ValueError("writer is closed")
        if len(frames) % 4:
            raise ValueError("stereo 16-bit frames are 4 bytes each")
        if self.data_bytes + len(frames) > _MAX_DATA:
            raise ValueError("WAV file would exceed 4 GiB")
        self.stream.write(frames)
        self.data_bytes += len(frames)

    def write(self, left: npt.ArrayLike, right: npt.ArrayLike) -> None:
        self.write_frames(interleave(left, right))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.stream.seekable():
            end = self.stream.tell()
            self.stream.seek(self._start)
            self.stream.write(wav_header(self.data_bytes, channels=2, sample_rate=self.sample_rate))
            self.stream.seek(end)
