"""Stereo call recording written off the hot path.

The relay path only appends each G.711 payload to its channel's current run
of contiguous audio (one ``bytearray`` extended in place; a new run starts
when a packet does not continue the previous one: loss, reordering, a new
source or codec), with no decoding or object per packet.  Every flush (the
bridge's housekeeping timer, about once a second) turns each run into PCM
with one table lookup, places them on the shared timeline of a
:class:`hotline.media.wav.StereoAligner` (caller left, agent right, silence
in gaps) and releases everything older than ``lag`` seconds.  Released frames
accumulate in memory and go to disk in chunks of ``chunk_bytes`` through an
executor (one writer thread shared by all calls, so writes to one file keep
their order).  File opening, writing and closing never happen on the event
loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt

from hotline.media import g711
from hotline.media.wav import LEFT, RIGHT, StereoAligner, WavWriter

__all__ = ["LEFT", "RIGHT", "Recorder", "recording_path"]

log = logging.getLogger(__name__)

RATE: Final = 8000


def recording_path(media_root: Path, call_id: str, started: dt.datetime) -> Path:
    """``<media root>/recordings/YYYY/MM/DD/<call id>.wav`` (call id sanitised)."""
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in call_id).strip(".") or "call"
    return media_root / "recordings" / f"{started:%Y}" / f"{started:%m}" / f"{started:%d}" / f"{safe}.wav"


class _File:
    """State touched only by the writer thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stream: BinaryIO | None = None
        self.writer: WavWriter | None = None
        self.failed: BaseException | None = None

    def write(self, frames: bytes) -> None:
        if self.failed is not None:
            return
        try:
            if self.writer is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.stream = open(self.path, "wb")  # noqa: SIM115 - closed in close()
                self.writer = WavWriter(self.stream, sample_rate=RATE)
            if frames:
                self.writer.write_frames(frames)
        except BaseException as exc:  # disk full, permissions: keep the call going
            self.failed = exc
            log.error("recording %s failed: %s", self.path, exc)

    def close(self) -> int:
        self.write(b"")
        try:
            if self.writer is not None:
                self.writer.close()
        finally:
            if self.stream is not None:
                self.stream.close()
        return self.writer.data_bytes if self.writer is not None else 0


class _Run:
    """Contiguous G.711 audio of one channel: ``data`` covers ``[start, end)``."""

    __slots__ = ("start", "end", "codec", "data")

    def __init__(self, start: int, codec: str, payload: bytes) -> None:
        self.start = start
        self.end = start + len(payload)
        self.codec = codec
        self.data = bytearray(payload)


class Recorder:
    """Collects both channels of one call and writes a stereo WAV file.

    ``add_g711(channel, position, codec_name, payload)`` and
    ``add_pcm(channel, position, samples)`` place audio at a sample position
    of the call timeline (0 = ``start`` on the loop clock).  ``flush(now)``
    aligns and releases what is older than ``lag``; ``close()`` releases the
    rest and closes the file, returning a future resolved with the number of
    data bytes written.
    """

    def __init__(
        self,
        path: Path,
        executor: concurrent.futures.Executor,
        start: float,
        *,
        lag: float = 0.3,
        chunk_bytes: int = 64 * 1024,
        max_seconds: float = 4 * 3600.0,
    ) -> None:
        self.path = path
        self.start = start
        self.lag_samples = int(lag * RATE)
        self.chunk_bytes = chunk_bytes
        self.max_samples = int(max_seconds * RATE)
        self._executor = executor
        self._file = _File(path)
        self._aligner = StereoAligner(max_pending=RATE * 120)
        self._pending: tuple[list[_Run], list[_Run]] = ([], [])
        self._pending_pcm: list[tuple[int, int, npt.NDArray[np.int16]]] = []
        self._frames = bytearray()
        self._last_write: concurrent.futures.Future[None] | None = None
        self.closed = False
        self.dropped = 0
        self.truncated = False
        self.written_bytes = 0

    def position(self, now: float) -> int:
        """Timeline sample position of loop time ``now``."""
        return int((now - self.start) * RATE)

    def add_g711(self, channel: int, position: int, codec_name: str, payload: bytes) -> None:
        if position < 0 or position >= self.max_samples:
            self.dropped += 1
            return
        runs = self._pending[channel]
        if runs:
            last = runs[-1]
            if last.end == position and last.codec == codec_name:
                last.data += payload
                last.end += len(payload)
                return
        runs.append(_Run(position, codec_name, payload))

    def add_pcm(self, channel: int, position: int, samples: npt.NDArray[np.int16]) -> None:
        if position < 0 or position >= self.max_samples:
            self.dropped += 1
            return
        self._pending_pcm.append((channel, position, samples))

    @property
    def buffered_bytes(self) -> int:
        return len(self._frames)

    def _align_pending(self) -> None:
        for channel in (LEFT, RIGHT):
            runs = self._pending[channel]
            for run in runs:  # in arrival order: where runs overlap, the later audio wins
                self._safe_add(channel, run.start, g711.decode(run.codec, run.data))
            runs.clear()
        for channel, pos, samples in self._pending_pcm:
            self._safe_add(channel, pos, samples)
        self._pending_pcm.clear()

    def _safe_add(self, channel: int, position: int, samples: npt.NDArray[np.int16]) -> None:
        try:
            self._aligner.add(channel, position, samples)
        except ValueError:  # absurdly far ahead (clock jump): drop, never crash
            self.dropped += 1

    def flush(self, now: float, *, final: bool = False) -> None:
        """Align pending audio, release it up to ``now - lag``, write big chunks."""
        if self.closed:
            return
        self._align_pending()
        upto = self._aligner.pending_end if final else self.position(now) - self.lag_samples
        upto = min(upto, self.max_samples)
        released = self._aligner.released
        while upto > released:
            step = min(upto, released + self._aligner.max_pending)
            self._frames += self._aligner.release(step)
            released = step
        if self._aligner.released >= self.max_samples:
            self.truncated = True
        if len(self._frames) >= self.chunk_bytes or (final and self._frames):
            self._submit(bytes(self._frames))
            self._frames.clear()

    def _submit(self, frames: bytes) -> None:
        self.written_bytes += len(frames)
        self._last_write = self._executor.submit(self._file.write, frames)

    def close(self, now: float) -> asyncio.Future[int]:
        """Write what is left, close the file; the future gives the data bytes."""
        loop = asyncio.get_running_loop()
        if self.closed:
            done: asyncio.Future[int] = loop.create_future()
            done.set_result(self.written_bytes)
            return done
        self.flush(now, final=True)
        self.closed = True
        self._pending[LEFT].clear()
        self._pending[RIGHT].clear()
        return asyncio.wrap_future(self._executor.submit(self._file.close), loop=loop)

    @property
    def failed(self) -> BaseException | None:
        return self._file.failed
