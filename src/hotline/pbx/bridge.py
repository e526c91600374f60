"""Media bridge between call legs: relay, transcoding, hold, conference, recording.

A :class:`Bridge` joins two :class:`~hotline.pbx.rtp_endpoint.RtpEndpoint`
legs (caller first, agent second) and moves their media:

* **relay** - each RTP packet from one leg is re-stamped by the other leg's
  :class:`~hotline.pbx.rtp_endpoint.OutStream` (its own SSRC, continuous
  sequence numbers and timestamps) and sent on.  The payload passes through
  untouched when both legs use the same codec, and is transcoded PCMU<->PCMA
  (one 256-entry table lookup) when they differ.  RFC 4733 events are
  relayed with the other leg's telephone-event payload type and reported
  through ``on_dtmf``.
* **hold** - nothing is relayed; optionally (``fill="silence"``) each leg
  receives G.711 silence every ptime, which keeps NAT bindings and the
  peers' own media timeouts alive.  ``resume()`` restarts the relay with a
  marker bit and continuous numbering.
* **conference** - with three or more legs, every leg's audio goes through
  a jitter buffer, is decoded, and every 20 ms each leg is sent the mix of
  all the others (:func:`hotline.media.mixing.mix_minus_map`), encoded in
  its own codec.  The tick is a loop timer re-armed at absolute times
  (``start + n * 20 ms``) so it does not drift; when the loop falls more
  than 100 ms behind it re-synchronises instead of bursting.
* **recording** - caller on the left channel, everyone else on the right,
  aligned by arrival time and RTP timestamps (:mod:`hotline.pbx.recorder`).
* **media timeout** - when a leg has received no RTP for ``media_timeout``
  seconds (not counted while on hold), the bridge ends with reason
  ``"media-timeout"``.

``end(reason)`` sends RTCP BYE, stops every timer, closes the legs (their
ports go back to the allocator) and the recording, and calls
``on_end(bridge, reason)`` exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from hotline.media import g711
from hotline.media.dtmf import DtmfDigit
from hotline.media.mixing import mix, mix_minus_map
from hotline.media.rtp import Gap, JitterBuffer, Playout, RtpPacket
from hotline.media.wav import LEFT, RIGHT

from hotline.pbx.recorder import RATE as _RECORD_RATE
from hotline.pbx.recorder import Recorder
from hotline.pbx.rtp_endpoint import Codec, RtpEndpoint

__all__ = ["Bridge", "BridgeState", "EndReason", "Ticker", "silence_payload"]

log = logging.getLogger(__name__)

BridgeState = Literal["relay", "held", "conference", "ended"]
EndReason = str  # "hangup", "media-timeout", "shutdown", "error", or a caller's own reason

HOUSEKEEPING_SECONDS: Final = 0.5
RTCP_INTERVAL: Final = 5.0
RECORDING_FLUSH_SECONDS: Final = 1.0
_SILENCE_CODE: Final = {"PCMU": 0xFF, "PCMA": 0xD5}


def silence_payload(codec: Codec) -> bytes:
    """One ptime of G.711 silence in the leg's codec."""
    return bytes([_SILENCE_CODE[codec.name]]) * codec.samples_per_packet


def _transcoder(src: str, dst: str) -> Callable[[bytes], bytes] | None:
    if src == dst:
        return None
    return g711.ulaw_to_alaw if src == "PCMU" else g711.alaw_to_ulaw


class Ticker:
    """Calls ``fn(scheduled_time)`` every ``period`` seconds without drifting.

    Each call is scheduled at ``first + n * period`` (absolute loop times),
    so lateness of one callback does not shift the ones after it; a late
    tick is run at once (catching up).  When more than ``max_behind``
    seconds behind, the schedule restarts from now and the skipped ticks
    are counted in ``skipped``.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        period: float,
        fn: Callable[[float], None],
        *,
        max_behind: float = 0.1,
    ) -> None:
        self.loop = loop
        self.period = period
        self.fn = fn
        self.max_behind = max_behind
        self.next = loop.time() + period
        self.ticks = 0
        self.skipped = 0
        self.max_lateness = 0.0
        self._handle: asyncio.TimerHandle | None = loop.call_at(self.next, self._run)

    def _run(self) -> None:
        now = self.loop.time()
        late = now - self.next
        if late > self.max_lateness:
            self.max_lateness = late
        if late > self.max_behind:
            skip = int(late / self.period)
            self.skipped += skip
            self.next += skip * self.period
        scheduled = self.next
        self.next += self.period
        self.ticks += 1
        self._handle = self.loop.call_at(self.next, self._run)
        self.fn(scheduled)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    @property
    def active(self) -> bool:
        return self._handle is not None


class _RecordAnchor:
    """Maps one leg's RTP timestamps to recording positions."""

    __slots__ = ("ssrc", "first_ts", "first_pos")

    def __init__(self, ssrc: int, first_ts: int, first_pos: int) -> None:
        self.ssrc = ssrc
        self.first_ts = first_ts
        self.first_pos = first_pos


class _MixInput:
    """One leg's audio on its way into the conference mix."""

    __slots__ = ("buffer", "samples")

    def __init__(self) -> None:
        self.buffer = JitterBuffer.in_packets(2, 20.0, max_packets=32)
        self.samples: npt.NDArray[np.int16] = np.zeros(0, dtype=np.int16)


EndCallback = Callable[["Bridge", EndReason], None]
BridgeDtmfCallback = Callable[["Bridge", RtpEndpoint, DtmfDigit], None]


class Bridge:
    """Joins call legs; see the module docstring for what it does."""

    def __init__(
        self,
        caller: RtpEndpoint,
        agent: RtpEndpoint,
        *,
        recorder: Recorder | None = None,
        media_timeout: float = 30.0,
        on_end: EndCallback | None = None,
        on_dtmf: BridgeDtmfCallback | None = None,
        name: str = "",
        unix_clock: Callable[[], float] = time.time,
    ) -> None:
        if caller is agent:
            raise ValueError("a bridge needs two different legs")
        self.loop = asyncio.get_running_loop()
        self.legs: list[RtpEndpoint] = [caller, agent]
        self.recorder = recorder
        self.media_timeout = media_timeout
        self.on_end = on_end
        self.on_dtmf = on_dtmf
        self.name = name or f"bridge:{caller.port}-{agent.port}"
        self.state: BridgeState = "relay"
        self.end_reason: EndReason | None = None
        self.timed_out_leg: RtpEndpoint | None = None
        self.started_at = self.loop.time()
        self.closed_recording: asyncio.Future[int] | None = None
        self.relayed = 0
        self.transcoded = 0
        self.dropped = 0
        self.conference_ticks = 0
        self._unix_clock = unix_clock
        self._timeout_base = self.started_at
        self._next_rtcp = self.started_at + RTCP_INTERVAL
        self._next_flush = self.started_at + RECORDING_FLUSH_SECONDS
        self._hold_fill = False
        self._ticker: Ticker | None = None
        self._mix: dict[RtpEndpoint, _MixInput] = {}
        self._anchors: dict[RtpEndpoint, _RecordAnchor] = {}
        self._routes: dict[RtpEndpoint, tuple[RtpEndpoint, int, int, Callable[[bytes], bytes] | None, int]] = {}
        for leg in self.legs:
            self._attach(leg)
        self._build_routes()
        self._housekeeping: asyncio.TimerHandle | None = self.loop.call_later(HOUSEKEEPING_SECONDS, self._housekeep)

    # -- legs ---------------------------------------------------------------------

    def _attach(self, leg: RtpEndpoint) -> None:
        leg.on_media = self._on_media
        leg.on_dtmf = self._on_leg_dtmf

    def _channel(self, leg: RtpEndpoint) -> int:
        return LEFT if leg is self.legs[0] else RIGHT

    def _build_routes(self) -> None:
        """Precompute, per source leg, where its packets go in relay mode."""
        self._routes.clear()
        if len(self.legs) != 2:
            return
        a, b = self.legs
        for src, dst in ((a, b), (b, a)):
            dtmf_out = dst.codec.dtmf_payload_type if dst.codec.dtmf_payload_type is not None else -1
            self._routes[src] = (
                dst,
                dst.codec.payload_type,
                dtmf_out,
                _transcoder(src.codec.name, dst.codec.name),
                self._channel(src),
            )

    @property
    def caller(self) -> RtpEndpoint:
        return self.legs[0]

    @property
    def agent(self) -> RtpEndpoint:
        return self.legs[1]

    # -- the hot path -------------------------------------------------------------

    def _on_media(
        self, leg: RtpEndpoint, pt: int, seq: int, ts: int, ssrc: int, marker: bool, payload: bytes, now: float,
    ) -> None:
        state = self.state
        if state == "relay":
            dst, audio_pt, dtmf_pt, transcode, channel = self._routes[leg]
            codec = leg.codec
            if pt == codec.payload_type:
                if transcode is None:
                    dst.relay(ssrc, audio_pt, seq, ts, marker, payload, now)
                else:
                    dst.relay(ssrc, audio_pt, seq, ts, marker, transcode(payload), now)
                    self.transcoded += 1
                self.relayed += 1
                recorder = self.recorder
                if recorder is not None:
                    # position on the call timeline from the RTP timestamp, anchored at the
                    # stream's first packet's arrival (see _RecordAnchor)
                    anchor = self._anchors.get(leg)
                    if anchor is not None and anchor.ssrc == ssrc:
                        d = (ts - anchor.first_ts) & 0xFFFFFFFF
                        if d >= 0x80000000:
                            d -= 0x1_0000_0000
                        pos = anchor.first_pos + d
                        arrival = int((now - recorder.start) * _RECORD_RATE)
                        if pos - arrival > _RECORD_RATE or arrival - pos > _RECORD_RATE:  # jump or drift beyond 1 s: re-anchor
                            anchor.first_ts, anchor.first_pos = ts, arrival
                            pos = arrival
                    else:
                        pos = int((now - recorder.start) * _RECORD_RATE)
                        self._anchors[leg] = _RecordAnchor(ssrc, ts, pos)
                    recorder.add_g711(channel, pos, codec.name, payload)
            elif pt == codec.dtmf_payload_type and dtmf_pt >= 0:
                dst.relay(ssrc, dtmf_pt, seq, ts, marker, payload, now)
                self.relayed += 1
            else:
                self.dropped += 1  # comfort noise, unknown payload types
        elif state == "conference":
            if pt == leg.codec.payload_type:
                inp = self._mix.get(leg)
                if inp is not None:
                    inp.buffer.push(RtpPacket(pt, seq, ts, ssrc, payload, marker), now)
            else:
                self.dropped += 1
        # held / ended: nothing is relayed

    def _on_leg_dtmf(self, leg: RtpEndpoint, digit: DtmfDigit) -> None:
        if self.on_dtmf is not None:
            self.on_dtmf(self, leg, digit)

    # -- hold / resume --------------------------------------------------------------

    def hold(self, *, fill: Literal["silence", "none"] = "silence") -> None:
        """Stop relaying; with ``fill="silence"`` send silence to every leg."""
        if self.state == "ended":
            return
        if self.state == "conference":
            self._stop_conference()
        self._stop_ticker()
        self.state = "held"
        self._hold_fill = fill == "silence"
        if self._hold_fill:
            self._start_ticker(self._hold_tick)

    def resume(self) -> None:
        """Restart relaying (or mixing, with three or more legs)."""
        if self.state != "held":
            return
        self._stop_ticker()
        now = self.loop.time()
        self._timeout_base = now
        for leg in self.legs:
            leg.out.restart()
        self._anchors.clear()
        if len(self.legs) > 2:
            self._start_conference()
        else:
            self.state = "relay"

    def _hold_tick(self, scheduled: float) -> None:
        for leg in self.legs:
            leg.send_generated(silence_payload(leg.codec), leg.codec.samples_per_packet, scheduled)

    # -- conference -------------------------------------------------------------------

    def add_party(self, leg: RtpEndpoint) -> None:
        """Add a third (or further) leg: the bridge becomes an N-1 mix."""
        if self.state == "ended":
            raise RuntimeError("bridge has ended")
        if leg in self.legs:
            raise ValueError("leg already in the bridge")
        self.legs.append(leg)
        self._attach(leg)
        self._routes.clear()
        if self.state != "held":
            self._start_conference()

    def remove_party(self, leg: RtpEndpoint, *, close: bool = True) -> None:
        """Drop a leg added with :meth:`add_party` (back to relay with two legs)."""
        if leg not in self.legs[2:]:
            raise ValueError("only an added party can be removed; end the bridge instead")
        self.legs.remove(leg)
        self._mix.pop(leg, None)
        leg.on_media = None
        leg.on_dtmf = None
        if close:
            leg.send_rtcp(self.loop.time(), self._unix_clock(), bye=True)
            leg.close()
        if len(self.legs) == 2:
            self._build_routes()
            if self.state == "conference":
                self._stop_conference()
                for remaining in self.legs:
                    remaining.out.restart()
                self._anchors.clear()
                self.state = "relay"

    def replace_party(self, old: RtpEndpoint, new: RtpEndpoint, *, close: bool = True) -> None:
        """Put ``new`` in the place of ``old`` (a transfer): same channel in the
        recording, the other legs keep their sockets and see one continuous stream."""
        if self.state == "ended":
            raise RuntimeError("bridge has ended")
        if old not in self.legs or new in self.legs:
            raise ValueError("old must be in the bridge and new must not")
        index = self.legs.index(old)
        self.legs[index] = new
        old.on_media = None
        old.on_dtmf = None
        if self._mix.pop(old, None) is not None:
            self._mix[new] = _MixInput()
        self._anchors.pop(old, None)
        if close:
            try:
                old.send_rtcp(self.loop.time(), self._unix_clock(), bye=True)
            except OSError:
                pass
            old.close()
        self._attach(new)
        self._timeout_base = self.loop.time()
        self._build_routes()

    def detach(self, leg: RtpEndpoint) -> None:
        """Take ``leg`` out of this bridge without closing it (it moves to another
        bridge: attended transfer); the bridge should then be ended."""
        if leg not in self.legs:
            raise ValueError("leg not in the bridge")
        self.legs.remove(leg)
        self._mix.pop(leg, None)
        self._anchors.pop(leg, None)
        self._routes.pop(leg, None)
        leg.on_media = None
        leg.on_dtmf = None
        if len(self.legs) >= 2:
            self._build_routes()

    def _start_conference(self) -> None:
        self.state = "conference"
        self._mix = {leg: self._mix.get(leg) or _MixInput() for leg in self.legs}
        self._start_ticker(self._conference_tick)

    def _stop_conference(self) -> None:
        self._stop_ticker()
        self._mix.clear()

    def _conference_tick(self, scheduled: float) -> None:
        now = self.loop.time()
        frames: dict[RtpEndpoint, npt.NDArray[np.int16]] = {}
        for leg in self.legs:
            inp = self._mix.get(leg)
            spp = leg.codec.samples_per_packet
            if inp is None:
                frames[leg] = np.zeros(spp, dtype=np.int16)
                continue
            parts = [inp.samples]
            while True:
                item = inp.buffer.pop(now)
                if item is None:
                    break
                if isinstance(item, Playout):
                    parts.append(g711.decode(leg.codec.name, item.packet.payload))
                elif isinstance(item, Gap):
                    parts.append(np.zeros(min(item.count, 5) * spp, dtype=np.int16))
            audio = np.concatenate(parts) if len(parts) > 1 else parts[0]
            if audio.shape[0] > 3 * spp:  # never let the backlog grow: keep the newest
                audio = audio[-3 * spp :]
            if audio.shape[0] >= spp:
                frames[leg], inp.samples = audio[:spp], audio[spp:]
            else:
                frame = np.zeros(spp, dtype=np.int16)
                frame[: audio.shape[0]] = audio
                frames[leg], inp.samples = frame, np.zeros(0, dtype=np.int16)
        mixes = mix_minus_map(frames)
        for leg, mixed in mixes.items():
            leg.send_generated(g711.encode(leg.codec.name, mixed), leg.codec.samples_per_packet, scheduled)
        self.conference_ticks += 1
        if self.recorder is not None:
            pos = self.recorder.position(scheduled)
            caller = self.legs[0]
            self.recorder.add_pcm(LEFT, pos, frames[caller])
            self.recorder.add_pcm(RIGHT, pos, mix([f for leg, f in frames.items() if leg is not caller]))

    # -- timers -----------------------------------------------------------------------

    def _start_ticker(self, fn: Callable[[float], None]) -> None:
        self._stop_ticker()
        ptime = self.legs[0].codec.ptime_ms / 1000.0
        self._ticker = Ticker(self.loop, ptime, fn)

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _housekeep(self) -> None:
        self._housekeeping = None
        if self.state == "ended":
            return
        now = self.loop.time()
        try:
            for leg in self.legs:
                leg.tick(now)
            if self.state != "held" and self.media_timeout > 0:
                for leg in self.legs:
                    last = max(leg.last_rx or 0.0, self._timeout_base)
                    if now - last >= self.media_timeout:
                        self.timed_out_leg = leg
                        self.end("media-timeout")
                        return
            if now >= self._next_rtcp:
                self._next_rtcp = now + RTCP_INTERVAL
                unix_now = self._unix_clock()
                for leg in self.legs:
                    leg.send_rtcp(now, unix_now)
            if self.recorder is not None and now >= self._next_flush:
                self._next_flush = now + RECORDING_FLUSH_SECONDS
                self.recorder.flush(now)
        except Exception:
            log.exception("%s: housekeeping failed; ending the bridge", self.name)
            self.end("error")
            return
        self._housekeeping = self.loop.call_later(HOUSEKEEPING_SECONDS, self._housekeep)

    # -- teardown ------------------------------------------------------------------------

    def end(self, reason: EndReason = "hangup") -> None:
        """End the call: BYE, stop timers, close legs and recording; idempotent."""
        if self.state == "ended":
            return
        self.state = "ended"
        self.end_reason = reason
        self._stop_ticker()
        self._mix.clear()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            self._housekeeping = None
        now = self.loop.time()
        unix_now = self._unix_clock()
        for leg in self.legs:
            try:
                leg.send_rtcp(now, unix_now, bye=True)
            except OSError:
                pass
            leg.close()
        if self.recorder is not None:
            self.closed_recording = self.recorder.close(now)
        callback, self.on_end, self.on_dtmf = self.on_end, None, None
        if callback is not None:
            try:
                callback(self, reason)
            except Exception:
                log.exception("%s: on_end callback failed", self.name)

    async def wait_recording(self) -> int:
        """Wait until the recording file is closed; return its data bytes."""
        if self.closed_recording is None:
            return 0
        return await self.closed_recording

    def counters(self) -> dict[str, object]:
        return {
            "state": self.state,
            "relayed": self.relayed,
            "transcoded": self.transcoded,
            "dropped": self.dropped,
            "legs": [leg.counters() for leg in self.legs],
        }
