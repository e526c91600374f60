"""RFC 4733 telephone-events (DTMF over RTP).

* :class:`TelephoneEvent` - the 4-octet payload (event, E bit, volume,
  duration).
* :class:`DtmfReceiver` - turns the RTP packets of a telephone-event stream
  (updates, lost start packets, the usual three retransmitted end packets,
  duplicates) into exactly one :class:`DtmfDigit` per key press.
* :class:`DtmfSender` - produces the packet sequence for one digit: marker on
  the first packet, the same RTP timestamp on every packet of the event,
  growing durations, and the end packet sent three times.

Events 0-9, ``*`` (10), ``#`` (11), ``A``-``D`` (12-15) and flash (16, shown
as ``"!"``) are supported.
"""

from __future__ import annotations

import math
import struct
from collections import deque
from dataclasses import dataclass
from typing import Final

from hotline.media.errors import DtmfParseError
from hotline.media.rtp import RtpPacket, RtpSender, timestamp_delta

__all__ = [
    "DTMF_EVENTS",
    "FLASH",
    "DtmfDigit",
    "DtmfReceiver",
    "DtmfSender",
    "TelephoneEvent",
    "digit_for_event",
    "event_for_digit",
    "event_payloads",
]

#: Symbol used for the hook-flash event (16).
FLASH: Final = "!"
#: Symbols of events 0..16, indexed by event code.
DTMF_EVENTS: Final = "0123456789*#ABCD" + FLASH
MAX_DURATION: Final = 0xFFFF


def event_for_digit(digit: str | int) -> int:
    """``"5"`` -> 5, ``"*"`` -> 10, ``"#"`` -> 11, ``"a"`` -> 12, ``"!"`` -> 16.

    An int is accepted as an event code 0..16.
    """
    if isinstance(digit, int):
        if 0 <= digit <= 16:
            return digit
        raise ValueError(f"unsupported DTMF event {digit}")
    index = DTMF_EVENTS.find(digit.upper()) if len(digit) == 1 else -1
    if index < 0:
        raise ValueError(f"unsupported DTMF digit {digit!r}")
    return index


def digit_for_event(event: int) -> str | None:
    """Inverse of :func:`event_for_digit`; ``None`` for other events."""
    return DTMF_EVENTS[event] if 0 <= event <= 16 else None


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """RFC 4733 §2.3 event payload.

    ``volume`` is the power level in -dBm0 (0..63), ``duration`` is in RTP
    timestamp units since the event's timestamp.
    """

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0
    reserved: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.event <= 255:
            raise ValueError("event must be 0..255")
        if not 0 <= self.volume <= 63:
            raise ValueError("volume must be 0..63")
        if not 0 <= self.duration <= MAX_DURATION:
            raise ValueError("duration must be 0..65535")

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> TelephoneEvent:
        """Parse a payload; raise :class:`DtmfParseError` if malformed.

        The payload must be a non-empty multiple of 4 octets; only the first
        event is returned (several are only sent with RFC 2198 redundancy).
        """
        buf = bytes(data)
        if len(buf) < 4 or len(buf) % 4:
            raise DtmfParseError(f"telephone-event payload must be 4*n octets, got {len(buf)}")
        event, flags, duration = struct.unpack_from("!BBH", buf, 0)
        return cls(
            event=event,
            end=bool(flags & 0x80),
            volume=flags & 0x3F,
            duration=duration,
            reserved=bool(flags & 0x40),
        )

    def serialize(self) -> bytes:
        flags = (0x80 if self.end else 0) | (0x40 if self.reserved else 0) | self.volume
        return struct.pack("!BBH", self.event, flags, self.duration)

    def __bytes__(self) -> bytes:
        return self.serialize()


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    """One key press as reported by :class:`DtmfReceiver`.

    ``ended`` is False when no end packet was received and the digit was
    closed by a newer event, an SSRC change or :meth:`DtmfReceiver.expire`.
    """

    digit: str
    event: int
    timestamp: int
    duration: int
    volume: int
    ended: bool
    clock_rate: int = 8000

    @property
    def duration_ms(self) -> float:
        return self.duration * 1000.0 / self.clock_rate


@dataclass(slots=True)
class _Ongoing:
    ssrc: int
    timestamp: int
    event: int
    volume: int
    duration: int
    last_seen: float
    base_duration: int = 0  # accumulated from earlier long-event segments


class DtmfReceiver:
    """Collapse a telephone-event packet stream into key presses.

    Feed every RTP packet of the call with ``feed(packet, now)``; packets of
    other payload types are ignored.  Each returned :class:`DtmfDigit` is a
    distinct key press, emitted once:

    * when the first end packet (E bit) of the event arrives - later
      retransmissions of it (same SSRC and timestamp) are ignored;
    * or, if every end packet was lost, when a packet of a newer event
      arrives, or when ``expire(now)`` finds no update for ``timeout``
      seconds.

    A key press is identified by (SSRC, RTP timestamp), so a lost start
    packet is harmless: the first packet seen opens the event.  Packets of an
    older event than the last one handled are ignored.  Long events split
    into segments (duration 0xFFFF, RFC 4733 §2.5.1.3) are joined.
    Malformed payloads are counted in ``malformed`` and otherwise ignored.
    """

    def __init__(self, payload_type: int = 101, clock_rate: int = 8000, timeout: float = 0.5) -> None:
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        self.timeout = timeout
        self.malformed = 0
        self._current: _Ongoing | None = None
        self._done: deque[tuple[int, int]] = deque(maxlen=32)
        self._last_done: tuple[int, int] | None = None

    @property
    def current(self) -> str | None:
        """The digit currently held down (start seen, end not yet), if any."""
        if self._current is None:
            return None
        return digit_for_event(self._current.event)

    def _finish(self, ongoing: _Ongoing, ended: bool) -> DtmfDigit | None:
        key = (ongoing.ssrc, ongoing.timestamp)
        self._done.append(key)
        self._last_done = key
        digit = digit_for_event(ongoing.event)
        if digit is None:
            return None
        return DtmfDigit(
            digit=digit,
            event=ongoing.event,
            timestamp=ongoing.timestamp,
            duration=ongoing.base_duration + ongoing.duration,
            volume=ongoing.volume,
            ended=ended,
            clock_rate=self.clock_rate,
        )

    def feed(self, packet: RtpPacket, now: float) -> list[DtmfDigit]:
        """Process one RTP packet; return the key presses it completes."""
        if packet.payload_type != self.payload_type:
            return []
        try:
            ev = TelephoneEvent.parse(packet.payload)
        except DtmfParseError:
            self.malformed += 1
            return []
        out: list[DtmfDigit] = []
        key = (packet.ssrc, packet.timestamp)
        if key in self._done:
            return out
        if self._last_done is not None and self._last_done[0] == packet.ssrc:
            if timestamp_delta(packet.timestamp, self._last_done[1]) < 0:
                return out  # straggler from an older event
        cur = self._current
        if cur is not None and (cur.ssrc, cur.timestamp) != key:
            if cur.ssrc == packet.ssrc and timestamp_delta(packet.timestamp, cur.timestamp) < 0:
                return out  # straggler from an older event
            if (
                cur.ssrc == packet.ssrc
                and cur.event == ev.event
                and cur.duration == MAX_DURATION
                and not packet.marker
            ):
                # Next segment of a long event: same key press continues.
                self._done.append((cur.ssrc, cur.timestamp))
                cur.base_duration += cur.duration
                cur.timestamp = packet.timestamp
                cur.duration = 0
            else:
                finished = self._finish(cur, ended=False)
                if finished is not None:
                    out.append(finished)
                self._current = cur = None
        if cur is None:
            cur = self._current = _Ongoing(packet.ssrc, packet.timestamp, ev.event, ev.volume, ev.duration, now)
        else:
            cur.duration = max(cur.duration, ev.duration)
            cur.volume = ev.volume
            cur.last_seen = now
        if ev.end:
            self._current = None
            finished = self._finish(cur, ended=True)
            if finished is not None:
                out.append(finished)
        return out

    def expire(self, now: float) -> list[DtmfDigit]:
        """Close an event whose end packets never came (``timeout`` elapsed)."""
        cur = self._current
        if cur is None or now - cur.last_seen < self.timeout:
            return []
        self._current = None
        finished = self._finish(cur, ended=False)
        return [finished] if finished is not None else []


def event_payloads(
    event: int,
    duration: int,
    packet_interval: int,
    *,
    volume: int = 10,
    end_repeats: int = 3,
) -> list[TelephoneEvent]:
    """Payloads for one event of ``duration`` timestamp units.

    One update every ``packet_interval`` units with the elapsed duration
    (``interval, 2*interval, ...`` while below ``duration``), then
    ``end_repeats`` end packets carrying the final duration.
    """
    if not 0 < duration <= MAX_DURATION:
        raise ValueError("duration must be 1..65535 timestamp units")
    if packet_interval <= 0 or end_repeats < 1:
        raise ValueError("packet_interval and end_repeats must be positive")
    updates = [
        TelephoneEvent(event, False, volume, k * packet_interval)
        for k in range(1, math.ceil(duration / packet_interval))
    ]
    ends = [TelephoneEvent(event, True, volume, duration)] * end_repeats
    return updates + ends


class DtmfSender:
    """Builds the RTP packets of RFC 4733 digits on an existing stream.

    It shares the :class:`RtpSender` of the audio stream (same SSRC and
    sequence space).  Every packet of a digit carries the media clock's
    current timestamp; afterwards the media clock is advanced by the digit's
    duration so audio resumes in step.
    """

    def __init__(self, rtp: RtpSender, payload_type: int = 101, *, volume: int = 10, end_repeats: int = 3) -> None:
        self.rtp = rtp
        self.payload_type = payload_type
        self.volume = volume
        self.end_repeats = end_repeats

    def schedule(self, digit: str | int, duration_ms: float = 100.0, ptime_ms: float = 20.0) -> list[tuple[float, RtpPacket]]:
        """Packets for one digit with their send offsets in seconds.

        Packet ``i`` is meant to be sent ``i * ptime`` after the first.
        """
        event = event_for_digit(digit)
        clock = self.rtp.clock_rate
        duration = round(duration_ms * clock / 1000.0)
        interval = round(ptime_ms * clock / 1000.0)
        payloads = event_payloads(event, duration, interval, volume=self.volume, end_repeats=self.end_repeats)
        start = self.rtp.timestamp
        out: list[tuple[float, RtpPacket]] = []
        for i, payload in enumerate(payloads):
            packet = self.rtp.send_event(payload.serialize(), start, self.payload_type, marker=(i == 0))
            out.append((i * ptime_ms / 1000.0, packet))
        self.rtp.advance(duration)
        return out

    def packets(self, digit: str | int, duration_ms: float = 100.0, ptime_ms: float = 20.0) -> list[RtpPacket]:
        """Like :meth:`schedule` without the offsets."""
        return [packet for _, packet in self.schedule(digit, duration_ms, ptime_ms)]
