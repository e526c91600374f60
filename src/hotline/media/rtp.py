"""RTP and RTCP wire formats (RFC 3550) and a sender helper.

* :class:`RtpPacket` - parse/serialize the fixed header, CSRC list, header
  extension and padding.
* RTCP: :class:`SenderReport`, :class:`ReceiverReport`,
  :class:`SourceDescription`, :class:`Bye` and :class:`RtcpUnknown`;
  :func:`parse_rtcp` splits a compound packet, :func:`serialize_rtcp` builds
  one.
* :class:`RtpSender` - stamps sequence number / timestamp / SSRC (random
  initial values) and sets the marker bit on the first packet after silence.

* :class:`ReceiverStats` - RFC 3550 A.1/A.3/A.8 reception statistics:
  extended highest sequence number, loss, interarrival jitter, report blocks.
* :class:`JitterBuffer` - reorders packets, drops late and duplicate ones and
  reports gaps; driven by ``push(packet, now)`` / ``pop(now)``.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal, Union

from hotline.media.errors import RtcpParseError, RtpParseError

__all__ = [
    "RTCP_APP",
    "RTCP_BYE",
    "RTCP_RR",
    "RTCP_SDES",
    "RTCP_SR",
    "SDES_CNAME",
    "Bye",
    "Gap",
    "JitterBuffer",
    "Playout",
    "ReceiverStats",
    "ReceiverReport",
    "ReportBlock",
    "RtcpPacket",
    "RtcpUnknown",
    "RtpExtension",
    "RtpPacket",
    "RtpSender",
    "SdesChunk",
    "SenderReport",
    "SourceDescription",
    "compact_ntp",
    "is_rtcp",
    "ntp_from_seconds",
    "parse_rtcp",
    "seq_delta",
    "serialize_rtcp",
    "timestamp_delta",
]

RTP_VERSION: Final = 2
RTP_HEADER_SIZE: Final = 12

RTCP_SR: Final = 200
RTCP_RR: Final = 201
RTCP_SDES: Final = 202
RTCP_BYE: Final = 203
RTCP_APP: Final = 204

SDES_END: Final = 0
SDES_CNAME: Final = 1

#: Seconds between the NTP epoch (1900) and the Unix epoch (1970).
NTP_UNIX_OFFSET: Final = 2_208_988_800

_REPORT_BLOCK_SIZE: Final = 24
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF


def seq_delta(a: int, b: int) -> int:
    """Signed distance ``a - b`` between two 16-bit sequence numbers."""
    d = (a - b) & _U16
    return d - 0x10000 if d >= 0x8000 else d


def timestamp_delta(a: int, b: int) -> int:
    """Signed distance ``a - b`` between two 32-bit RTP timestamps."""
    d = (a - b) & _U32
    return d - 0x1_0000_0000 if d >= 0x8000_0000 else d


def _check_range(name: str, value: int, bits: int) -> None:
    if not 0 <= value < (1 << bits):
        raise ValueError(f"{name}={value} does not fit in {bits} bits")


@dataclass(frozen=True, slots=True)
class RtpExtension:
    """RTP header extension (RFC 3550 §5.3.1): 16-bit profile + 32-bit words."""

    profile: int
    data: bytes = b""

    def __post_init__(self) -> None:
        _check_range("profile", self.profile, 16)
        if len(self.data) % 4:
            raise ValueError("extension data must be a multiple of 4 bytes")
        if len(self.data) // 4 > _U16:
            raise ValueError("extension data too long")


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet.  Immutable; use :func:`dataclasses.replace` to edit.

    ``padding`` is the number of padding octets (including the final count
    octet) appended on the wire; 0 means the P bit is clear.
    """

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: RtpExtension | None = None
    padding: int = 0
    version: int = RTP_VERSION

    def __post_init__(self) -> None:
        _check_range("payload_type", self.payload_type, 7)
        _check_range("sequence_number", self.sequence_number, 16)
        _check_range("timestamp", self.timestamp, 32)
        _check_range("ssrc", self.ssrc, 32)
        _check_range("version", self.version, 2)
        if len(self.csrcs) > 15:
            raise ValueError("at most 15 CSRCs")
        for csrc in self.csrcs:
            _check_range("csrc", csrc, 32)
        if not 0 <= self.padding <= 255:
            raise ValueError("padding must be 0..255 octets")

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> RtpPacket:
        """Parse one RTP packet; raise :class:`RtpParseError` if malformed."""
        buf = bytes(data)
        n = len(buf)
        if n < RTP_HEADER_SIZE:
            raise RtpParseError(f"RTP packet too short ({n} bytes)")
        b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", buf, 0)
        version = b0 >> 6
        if version != RTP_VERSION:
            raise RtpParseError(f"unsupported RTP version {version}")
        has_padding = bool(b0 & 0x20)
        has_extension = bool(b0 & 0x10)
        cc = b0 & 0x0F
        offset = RTP_HEADER_SIZE + 4 * cc
        if n < offset:
            raise RtpParseError("RTP packet truncated in CSRC list")
        csrcs = struct.unpack_from(f"!{cc}I", buf, RTP_HEADER_SIZE) if cc else ()
        extension: RtpExtension | None = None
        if has_extension:
            if n < offset + 4:
                raise RtpParseError("RTP packet truncated in extension header")
            profile, words = struct.unpack_from("!HH", buf, offset)
            offset += 4
            end = offset + 4 * words
            if n < end:
                raise RtpParseError("RTP packet truncated in extension data")
            extension = RtpExtension(profile, buf[offset:end])
            offset = end
        end = n
        padding = 0
        if has_padding:
            padding = buf[-1]
            if padding == 0 or padding > n - offset:
                raise RtpParseError(f"invalid RTP padding length {padding}")
            end = n - padding
        return cls(
            payload_type=b1 & 0x7F,
            sequence_number=seq,
            timestamp=ts,
            ssrc=ssrc,
            payload=buf[offset:end],
            marker=bool(b1 & 0x80),
            csrcs=tuple(csrcs),
            extension=extension,
            padding=padding,
            version=version,
        )

    def serialize(self) -> bytes:
        """Encode to wire bytes (inverse of :meth:`parse`)."""
        b0 = (self.version << 6) | (0x20 if self.padding else 0) | (0x10 if self.extension else 0) | len(self.csrcs)
        b1 = (0x80 if self.marker else 0) | self.payload_type
        parts = [struct.pack("!BBHII", b0, b1, self.sequence_number, self.timestamp, self.ssrc)]
        if self.csrcs:
            parts.append(struct.pack(f"!{len(self.csrcs)}I", *self.csrcs))
        if self.extension is not None:
            parts.append(struct.pack("!HH", self.extension.profile, len(self.extension.data) // 4))
            parts.append(self.extension.data)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)

    def __bytes__(self) -> bytes:
        return self.serialize()


def is_rtcp(data: bytes | bytearray | memoryview) -> bool:
    """Demultiplex RTP from RTCP on one port (RFC 5761 §4): PT byte 192..223."""
    return len(data) >= 2 and (data[0] >> 6) == RTP_VERSION and 192 <= data[1] <= 223


# --------------------------------------------------------------------------- RTCP


def ntp_from_seconds(unix_seconds: float) -> int:
    """Unix time (float seconds) -> 64-bit NTP timestamp (32.32 fixed point)."""
    ntp = unix_seconds + NTP_UNIX_OFFSET
    secs = int(ntp)
    frac = int((ntp - secs) * (1 << 32)) & _U32
    return ((secs & _U32) << 32) | frac


def compact_ntp(ntp: int) -> int:
    """Middle 32 bits of a 64-bit NTP timestamp (the LSR field of RFC 3550)."""
    return (ntp >> 16) & _U32


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """Reception report block (RFC 3550 §6.4.1).

    ``cumulative_lost`` is signed (24-bit two's complement on the wire; it
    can be negative when duplicates arrive).  ``fraction_lost`` is the 8-bit
    fixed-point fraction (lost/expected * 256).
    """

    ssrc: int
    fraction_lost: int
    cumulative_lost: int
    highest_sequence: int
    jitter: int
    last_sr: int = 0
    delay_since_last_sr: int = 0

    def __post_init__(self) -> None:
        _check_range("ssrc", self.ssrc, 32)
        _check_range("fraction_lost", self.fraction_lost, 8)
        if not -(1 << 23) <= self.cumulative_lost < (1 << 23):
            raise ValueError("cumulative_lost does not fit in 24 signed bits")
        _check_range("highest_sequence", self.highest_sequence, 32)
        _check_range("jitter", self.jitter, 32)
        _check_range("last_sr", self.last_sr, 32)
        _check_range("delay_since_last_sr", self.delay_since_last_sr, 32)

    @classmethod
    def _parse(cls, buf: bytes, offset: int) -> ReportBlock:
        ssrc, lost_word, highest, jitter, lsr, dlsr = struct.unpack_from("!IIIIII", buf, offset)
        cumulative = lost_word & 0xFFFFFF
        if cumulative & 0x800000:
            cumulative -= 0x1000000
        return cls(ssrc, lost_word >> 24, cumulative, highest, jitter, lsr, dlsr)

    def _serialize(self) -> bytes:
        lost_word = (self.fraction_lost << 24) | (self.cumulative_lost & 0xFFFFFF)
        return struct.pack(
            "!IIIIII",
            self.ssrc,
            lost_word,
            self.highest_sequence,
            self.jitter,
            self.last_sr,
            self.delay_since_last_sr,
        )


@dataclass(frozen=True, slots=True)
class SenderReport:
    """RTCP SR (PT 200)."""

    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""

    def __post_init__(self) -> None:
        _check_range("ssrc", self.ssrc, 32)
        _check_range("ntp_timestamp", self.ntp_timestamp, 64)
        _check_range("rtp_timestamp", self.rtp_timestamp, 32)
        _check_range("packet_count", self.packet_count, 32)
        _check_range("octet_count", self.octet_count, 32)
        if len(self.reports) > 31:
            raise ValueError("at most 31 report blocks")
        if len(self.extension) % 4:
            raise ValueError("profile extension must be a multiple of 4 bytes")


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    """RTCP RR (PT 201)."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""

    def __post_init__(self) -> None:
        _check_range("ssrc", self.ssrc, 32)
        if len(self.reports) > 31:
            raise ValueError("at most 31 report blocks")
        if len(self.extension) % 4:
            raise ValueError("profile extension must be a multiple of 4 bytes")


@dataclass(frozen=True, slots=True)
class SdesChunk:
    """One SDES chunk: an SSRC and its (item type, value) pairs."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...] = ()

    def __post_init__(self) -> None:
        _check_range("ssrc", self.ssrc, 32)
        for kind, value in self.items:
            if not 1 <= kind <= 255:
                raise ValueError("SDES item type must be 1..255")
            if len(value) > 255:
                raise ValueError("SDES item value longer than 255 octets")

    @property
    def cname(self) -> bytes | None:
        for kind, value in self.items:
            if kind == SDES_CNAME:
                return value
        return None


@dataclass(frozen=True, slots=True)
class SourceDescription:
    """RTCP SDES (PT 202)."""

    chunks: tuple[SdesChunk, ...] = ()

    def __post_init__(self) -> None:
        if len(self.chunks) > 31:
            raise ValueError("at most 31 SDES chunks")


@dataclass(frozen=True, slots=True)
class Bye:
    """RTCP BYE (PT 203) with an optional reason (raw octets)."""

    sources: tuple[int, ...] = ()
    reason: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.sources) > 31:
            raise ValueError("at most 31 sources")
        for s in self.sources:
            _check_range("ssrc", s, 32)
        if self.reason is not None and len(self.reason) > 255:
            raise ValueError("BYE reason longer than 255 octets")


@dataclass(frozen=True, slots=True)
class RtcpUnknown:
    """Any other RTCP packet (APP, XR, feedback...), kept verbatim."""

    packet_type: int
    count: int
    body: bytes = b""

    def __post_init__(self) -> None:
        _check_range("packet_type", self.packet_type, 8)
        _check_range("count", self.count, 5)
        if len(self.body) % 4:
            raise ValueError("RTCP body must be a multiple of 4 bytes")


RtcpPacket = Union[SenderReport, ReceiverReport, SourceDescription, Bye, RtcpUnknown]


def _parse_reports(body: bytes, offset: int, count: int) -> tuple[tuple[ReportBlock, ...], int]:
    end = offset + count * _REPORT_BLOCK_SIZE
    if end > len(body):
        raise RtcpParseError("RTCP report blocks truncated")
    blocks = tuple(ReportBlock._parse(body, offset + i * _REPORT_BLOCK_SIZE) for i in range(count))
    return blocks, end


def _parse_sdes(body: bytes, count: int) -> SourceDescription:
    chunks: list[SdesChunk] = []
    offset = 0
    for _ in range(count):
        if offset + 4 > len(body):
            raise RtcpParseError("SDES chunk truncated")
        (ssrc,) = struct.unpack_from("!I", body, offset)
        offset += 4
        items: list[tuple[int, bytes]] = []
        while True:
            if offset >= len(body):
                raise RtcpParseError("SDES chunk not terminated")
            kind = body[offset]
            if kind == SDES_END:
                offset += 1
                offset = (offset + 3) & ~3  # chunks end on a 32-bit boundary
                break
            if offset + 2 > len(body):
                raise RtcpParseError("SDES item truncated")
            length = body[offset + 1]
            start = offset + 2
            if start + length > len(body):
                raise RtcpParseError("SDES item value truncated")
            items.append((kind, body[start : start + length]))
            offset = start + length
        chunks.append(SdesChunk(ssrc, tuple(items)))
    return SourceDescription(tuple(chunks))


def _parse_bye(body: bytes, count: int) -> Bye:
    if count * 4 > len(body):
        raise RtcpParseError("BYE source list truncated")
    sources = struct.unpack_from(f"!{count}I", body, 0) if count else ()
    offset = count * 4
    reason: bytes | None = None
    if offset < len(body):
        length = body[offset]
        if offset + 1 + length > len(body):
            raise RtcpParseError("BYE reason truncated")
        reason = body[offset + 1 : offset + 1 + length]
    return Bye(tuple(sources), reason)


def parse_rtcp(data: bytes | bytearray | memoryview) -> list[RtcpPacket]:
    """Parse a (compound) RTCP packet; raise :class:`RtcpParseError` if malformed.

    Validation follows RFC 3550 A.2 loosely: every packet must be version 2,
    lengths must tile the datagram exactly, and only the last packet may be
    padded.  The first packet is *not* required to be SR/RR (reduced-size
    RTCP, RFC 5506, is accepted).
    """
    buf = bytes(data)
    if not buf:
        raise RtcpParseError("empty RTCP packet")
    packets: list[RtcpPacket] = []
    offset = 0
    while offset < len(buf):
        if len(buf) - offset < 4:
            raise RtcpParseError("RTCP header truncated")
        b0, pt, length_words = struct.unpack_from("!BBH", buf, offset)
        if b0 >> 6 != RTP_VERSION:
            raise RtcpParseError(f"unsupported RTCP version {b0 >> 6}")
        count = b0 & 0x1F
        total = 4 * (length_words + 1)
        end = offset + total
        if end > len(buf):
            raise RtcpParseError("RTCP packet length exceeds datagram")
        body = buf[offset + 4 : end]
        if b0 & 0x20:
            if end != len(buf):
                raise RtcpParseError("padding only allowed on the last RTCP packet")
            pad = body[-1] if body else 0
            if pad == 0 or pad > len(body):
                raise RtcpParseError(f"invalid RTCP padding length {pad}")
            body = body[: len(body) - pad]
        packets.append(_parse_one(pt, count, body))
        offset = end
    return packets


def _parse_one(pt: int, count: int, body: bytes) -> RtcpPacket:
    if pt == RTCP_SR:
        if len(body) < 24:
            raise RtcpParseError("SR too short")
        ssrc, ntp_hi, ntp_lo, rtp_ts, pkts, octets = struct.unpack_from("!IIIIII", body, 0)
        reports, end = _parse_reports(body, 24, count)
        ext = body[end:]
        if len(ext) % 4:
            raise RtcpParseError("SR profile extension not 32-bit aligned")
        return SenderReport(ssrc, (ntp_hi << 32) | ntp_lo, rtp_ts, pkts, octets, reports, ext)
    if pt == RTCP_RR:
        if len(body) < 4:
            raise RtcpParseError("RR too short")
        (ssrc,) = struct.unpack_from("!I", body, 0)
        reports, end = _parse_reports(body, 4, count)
        ext = body[end:]
        if len(ext) % 4:
            raise RtcpParseError("RR profile extension not 32-bit aligned")
        return ReceiverReport(ssrc, reports, ext)
    if pt == RTCP_SDES:
        return _parse_sdes(body, count)
    if pt == RTCP_BYE:
        return _parse_bye(body, count)
    if len(body) % 4:
        raise RtcpParseError("RTCP packet body not 32-bit aligned")
    return RtcpUnknown(pt, count, body)


def _header(count: int, pt: int, body: bytes) -> bytes:
    pad = (-len(body)) % 4
    body = body + bytes(pad)
    return struct.pack("!BBH", (RTP_VERSION << 6) | count, pt, len(body) // 4) + body


def _serialize_one(packet: RtcpPacket) -> bytes:
    if isinstance(packet, SenderReport):
        body = struct.pack(
            "!IIIIII",
            packet.ssrc,
            packet.ntp_timestamp >> 32,
            packet.ntp_timestamp & _U32,
            packet.rtp_timestamp,
            packet.packet_count,
            packet.octet_count,
        )
        body += b"".join(r._serialize() for r in packet.reports) + packet.extension
        return _header(len(packet.reports), RTCP_SR, body)
    if isinstance(packet, ReceiverReport):
        body = struct.pack("!I", packet.ssrc)
        body += b"".join(r._serialize() for r in packet.reports) + packet.extension
        return _header(len(packet.reports), RTCP_RR, body)
    if isinstance(packet, SourceDescription):
        parts: list[bytes] = []
        for chunk in packet.chunks:
            raw = struct.pack("!I", chunk.ssrc)
            raw += b"".join(bytes([kind, len(value)]) + value for kind, value in chunk.items)
            raw += b"\x00"  # END item
            raw += bytes((-len(raw)) % 4)
            parts.append(raw)
        return _header(len(packet.chunks), RTCP_SDES, b"".join(parts))
    if isinstance(packet, Bye):
        body = b"".join(struct.pack("!I", s) for s in packet.sources)
        if packet.reason is not None:
            body += bytes([len(packet.reason)]) + packet.reason
        return _header(len(packet.sources), RTCP_BYE, body)
    return _header(packet.count, packet.packet_type, packet.body)


def serialize_rtcp(packets: Iterable[RtcpPacket]) -> bytes:
    """Concatenate RTCP packets into one compound datagram."""
    return b"".join(_serialize_one(p) for p in packets)


# --------------------------------------------------------------------------- sender


@dataclass(slots=True)
class RtpSender:
    """Stamps outgoing RTP packets for one SSRC.

    The initial SSRC, sequence number and timestamp are random (RFC 3550
    §5.1); pass ``rng`` (e.g. ``random.Random(seed)``) for deterministic
    tests, it defaults to :class:`random.SystemRandom`.

    ``send(payload, samples)`` returns a packet stamped with the current
    timestamp and advances the media clock by ``samples``.  ``silence(samples)``
    advances the clock without sending (VAD/DTX, hold): the next packet gets
    the marker bit, as RFC 3551 §4.1 asks for the first packet of a
    talkspurt.  The first packet of the stream is also marked.
    """

    payload_type: int
    clock_rate: int = 8000
    rng: random.Random = field(default_factory=random.SystemRandom, repr=False)
    ssrc: int = -1
    sequence_number: int = -1
    timestamp: int = -1
    packets_sent: int = 0
    octets_sent: int = 0
    _marker_pending: bool = True

    def __post_init__(self) -> None:
        _check_range("payload_type", self.payload_type, 7)
        if self.ssrc < 0:
            self.ssrc = self.rng.getrandbits(32)
        if self.sequence_number < 0:
            self.sequence_number = self.rng.getrandbits(16)
        if self.timestamp < 0:
            self.timestamp = self.rng.getrandbits(32)
        _check_range("ssrc", self.ssrc, 32)
        _check_range("sequence_number", self.sequence_number, 16)
        _check_range("timestamp", self.timestamp, 32)

    def _stamp(self, payload: bytes, timestamp: int, payload_type: int, marker: bool) -> RtpPacket:
        packet = RtpPacket(
            payload_type=payload_type,
            sequence_number=self.sequence_number,
            timestamp=timestamp & _U32,
            ssrc=self.ssrc,
            payload=payload,
            marker=marker,
        )
        self.sequence_number = (self.sequence_number + 1) & _U16
        self.packets_sent = (self.packets_sent + 1) & _U32
        self.octets_sent = (self.octets_sent + len(payload)) & _U32
        return packet

    def send(self, payload: bytes, samples: int, *, marker: bool | None = None) -> RtpPacket:
        """Stamp an audio packet of ``samples`` samples and advance the clock."""
        if samples < 0:
            raise ValueError("samples must be >= 0")
        mark = self._marker_pending if marker is None else marker
        self._marker_pending = False
        packet = self._stamp(payload, self.timestamp, self.payload_type, mark)
        self.timestamp = (self.timestamp + samples) & _U32
        return packet

    def silence(self, samples: int) -> None:
        """Advance the media clock without sending; mark the next packet."""
        if samples < 0:
            raise ValueError("samples must be >= 0")
        self.timestamp = (self.timestamp + samples) & _U32
        if samples:
            self._marker_pending = True

    def send_event(self, payload: bytes, timestamp: int, payload_type: int, *, marker: bool) -> RtpPacket:
        """Stamp a packet with an explicit timestamp (RFC 4733 events).

        Only the sequence number advances; the media clock is left alone.
        """
        _check_range("payload_type", payload_type, 7)
        return self._stamp(payload, timestamp, payload_type, marker)

    def advance(self, samples: int) -> None:
        """Advance the media clock without arming the marker bit."""
        if samples < 0:
            raise ValueError("samples must be >= 0")
        self.timestamp = (self.timestamp + samples) & _U32

    def sender_report(self, unix_now: float, reports: tuple[ReportBlock, ...] = ()) -> SenderReport:
        """Build an SR for this stream; ``unix_now`` is wall-clock seconds.

        The RTP timestamp is the current media clock (the timestamp the next
        packet will carry).
        """
        return SenderReport(
            ssrc=self.ssrc,
            ntp_timestamp=ntp_from_seconds(unix_now),
            rtp_timestamp=self.timestamp,
            packet_count=self.packets_sent,
            octet_count=self.octets_sent,
            reports=reports,
        )


# --------------------------------------------------------------------------- receiver statistics

RTP_SEQ_MOD: Final = 1 << 16
MAX_DROPOUT: Final = 3000
MAX_MISORDER: Final = 100
_DEDUP_WINDOW: Final = 1024  # a power of two, > MAX_MISORDER
_DEDUP_MASK: Final = _DEDUP_WINDOW - 1

Arrival = Literal["in_order", "reordered", "duplicate", "restarted", "ignored"]


class ReceiverStats:
    """Reception statistics for one remote SSRC (RFC 3550 A.1, A.3, A.8).

    Feed every received packet with ``update(packet, arrival_time)`` (or,
    on a hot path that parsed only the fixed header, ``update_fields(ssrc,
    sequence_number, timestamp, arrival_time)``), where ``arrival_time`` is
    the caller's clock in seconds.  The return value says how the packet was
    classified:

    * ``"in_order"`` - advanced the highest sequence number (possibly with a
      gap, possibly wrapping 65535 -> 0, which adds a cycle);
    * ``"reordered"`` - older than the highest one but not seen before;
    * ``"duplicate"`` - already received (within the last 1024 sequence
      numbers); it is *not* counted as received and does not feed jitter;
    * ``"ignored"`` - a large jump (> 3000 ahead or > 100 behind) or a
      foreign SSRC; two consecutive packets after a jump resynchronise the
      stream and the second one returns ``"restarted"``.

    Deviation from RFC 3550 (documented, intentional): duplicates are not
    counted in ``received`` so that duplication cannot hide loss; the
    cumulative loss therefore never goes negative because of duplicates.
    There is no probation period (MIN_SEQUENTIAL): the first packet is
    trusted, which suits SIP-signalled unicast streams.

    Duplicates are recognised with a ring of 1024 one-byte flags indexed by
    the extended sequence number modulo 1024 (1 KiB per stream): the slots
    skipped by a forward jump are cleared, so the ring always describes
    exactly the last 1024 extended sequence numbers, and a packet older
    than the highest one is at most ``MAX_MISORDER`` (100) behind.
    """

    __slots__ = (
        "clock_rate", "ssrc", "initialized", "base_seq", "max_seq", "cycles", "bad_seq", "received",
        "duplicates", "reordered", "expected_prior", "received_prior", "jitter", "_last_arrival", "_last_ts",
        "_seen", "_last_sr", "_last_sr_time",
    )

    def __init__(self, clock_rate: int = 8000, ssrc: int | None = None) -> None:
        if clock_rate <= 0:
            raise ValueError("clock_rate must be positive")
        self.clock_rate = clock_rate
        self.ssrc = ssrc
        self.initialized = False
        self.base_seq = 0
        self.max_seq = 0
        self.cycles = 0
        self.bad_seq = RTP_SEQ_MOD + 1
        self.received = 0
        self.duplicates = 0
        self.reordered = 0
        self.expected_prior = 0
        self.received_prior = 0
        self.jitter = 0.0
        self._last_arrival: float | None = None
        self._last_ts = 0
        self._seen = bytearray(_DEDUP_WINDOW)
        self._last_sr = 0
        self._last_sr_time: float | None = None

    # -- A.1 ---------------------------------------------------------------

    def _init_seq(self, seq: int) -> None:
        self.base_seq = seq
        self.max_seq = seq
        self.bad_seq = RTP_SEQ_MOD + 1
        self.cycles = 0
        self.received = 0
        self.received_prior = 0
        self.expected_prior = 0
        self._seen[:] = bytes(_DEDUP_WINDOW)
        self._last_arrival = None
        self.initialized = True

    @property
    def extended_highest_sequence(self) -> int:
        """Cycles (multiples of 65536) plus the highest sequence number seen."""
        return self.cycles + self.max_seq

    @property
    def expected(self) -> int:
        """Packets expected so far: extended highest - base + 1."""
        if not self.initialized:
            return 0
        return self.extended_highest_sequence - self.base_seq + 1

    @property
    def cumulative_lost(self) -> int:
        """Expected minus received (not clamped)."""
        return self.expected - self.received

    @property
    def jitter_ms(self) -> float:
        """Interarrival jitter in milliseconds."""
        return self.jitter * 1000.0 / self.clock_rate

    def update(self, packet: RtpPacket, arrival_time: float) -> Arrival:
        """Account one received packet (see the class docstring)."""
        return self.update_fields(packet.ssrc, packet.sequence_number, packet.timestamp, arrival_time)

    def update_fields(self, ssrc: int, seq: int, timestamp: int, arrival_time: float) -> Arrival:
        """:meth:`update` from the header fields alone (no packet object)."""
        if self.ssrc is None:
            self.ssrc = ssrc
        elif ssrc != self.ssrc:
            return "ignored"
        seen = self._seen
        result: Arrival
        if not self.initialized:
            self._init_seq(seq)
            seen[seq & _DEDUP_MASK] = 1
            result = "in_order"
        else:
            max_seq = self.max_seq
            udelta = (seq - max_seq) & _U16
            if udelta == 0:
                self.duplicates += 1
                return "duplicate"
            if udelta < MAX_DROPOUT:
                old_ext = self.cycles + max_seq
                if seq < max_seq:
                    self.cycles += RTP_SEQ_MOD
                self.max_seq = seq
                if udelta >= _DEDUP_WINDOW:
                    seen[:] = bytes(_DEDUP_WINDOW)
                elif udelta > 1:
                    for skipped in range(old_ext + 1, old_ext + udelta):
                        seen[skipped & _DEDUP_MASK] = 0
                seen[(old_ext + udelta) & _DEDUP_MASK] = 1
                result = "in_order"
            elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:
                if seq == self.bad_seq:
                    self._init_seq(seq)
                    seen[seq & _DEDUP_MASK] = 1
                    result = "restarted"
                else:
                    self.bad_seq = (seq + 1) & _U16
                    return "ignored"
            else:
                ext = self.cycles + max_seq + udelta - RTP_SEQ_MOD  # behind by < MAX_MISORDER
                slot = ext & _DEDUP_MASK
                if seen[slot]:
                    self.duplicates += 1
                    return "duplicate"
                seen[slot] = 1
                if ext < self.base_seq:
                    # Arrived after a later packet that started our stats:
                    # the stream really began earlier.
                    self.base_seq = ext
                self.reordered += 1
                result = "reordered"
        self.received += 1
        # A.8 interarrival jitter
        last = self._last_arrival
        if last is not None:
            td = (timestamp - self._last_ts) & _U32
            if td >= 0x8000_0000:
                td -= 0x1_0000_0000
            d = (arrival_time - last) * self.clock_rate - td
            if d < 0:
                d = -d
            self.jitter += (d - self.jitter) / 16.0
        self._last_arrival = arrival_time
        self._last_ts = timestamp
        return result

    # -- A.3 / report blocks -------------------------------------------------

    def on_sender_report(self, report: SenderReport, now: float) -> None:
        """Remember the SR's NTP time to fill LSR/DLSR in our next report."""
        self._last_sr = compact_ntp(report.ntp_timestamp)
        self._last_sr_time = now

    def fraction_lost_since(self, expected_prior: int, received_prior: int) -> int:
        """8-bit fixed-point loss fraction over an interval (RFC 3550 A.3)."""
        expected_interval = self.expected - expected_prior
        received_interval = self.received - received_prior
        lost_interval = expected_interval - received_interval
        if expected_interval <= 0 or lost_interval <= 0:
            return 0
        return min(255, (lost_interval << 8) // expected_interval)

    def report_block(self, now: float) -> ReportBlock:
        """Build a report block and start a new reporting interval."""
        fraction = self.fraction_lost_since(self.expected_prior, self.received_prior)
        self.expected_prior = self.expected
        self.received_prior = self.received
        lost = max(-(1 << 23), min((1 << 23) - 1, self.cumulative_lost))
        dlsr = 0
        if self._last_sr_time is not None:
            dlsr = max(0, min(_U32, int((now - self._last_sr_time) * 65536)))
        return ReportBlock(
            ssrc=self.ssrc if self.ssrc is not None else 0,
            fraction_lost=fraction,
            cumulative_lost=lost,
            highest_sequence=self.extended_highest_sequence & _U32,
            jitter=min(_U32, int(self.jitter)),
            last_sr=self._last_sr,
            delay_since_last_sr=dlsr,
        )


# --------------------------------------------------------------------------- jitter buffer


@dataclass(frozen=True, slots=True)
class Playout:
    """A packet whose playout time has come."""

    packet: RtpPacket
    extended_sequence: int


@dataclass(frozen=True, slots=True)
class Gap:
    """``count`` consecutive packets starting at ``first_sequence`` are lost."""

    first_sequence: int
    count: int
    extended_first: int


JitterItem = Union[Playout, Gap]
PushResult = Literal["queued", "late", "duplicate", "reset"]


class JitterBuffer:
    """Playout buffer for one RTP stream, driven by ``push``/``pop``.

    Playout schedule: the first packet (and the first packet after an
    underrun if it carries the marker bit or arrives after its slot) anchors
    the schedule at ``(now, timestamp)``; a packet with timestamp ``ts`` is
    due at ``anchor_time + depth + (ts - anchor_ts) / clock_rate``.

    ``pop(now)`` returns, in sequence order, either a :class:`Playout` when
    the next packet is due, a :class:`Gap` when the next packet is missing
    and a later one is already due (the missing ones are declared lost), or
    ``None`` when nothing is due.  Call it until it returns ``None``.

    ``push`` drops packets whose slot has passed (``"late"``), packets
    already queued (``"duplicate"``) and, when more than ``max_packets`` are
    queued, the oldest queued one (which then shows up as a gap).  A new
    SSRC or a sequence jump of more than 3000 flushes the buffer
    (``"reset"``, the new packet is queued).

    With ``adaptive=True`` the depth is re-chosen at each re-anchor as
    ``clamp(min_depth_ms, 4 * jitter_ms, max_depth_ms)`` where jitter is the
    RFC 3550 estimator over arrivals.
    """

    def __init__(
        self,
        *,
        clock_rate: int = 8000,
        depth_ms: float = 60.0,
        adaptive: bool = False,
        min_depth_ms: float = 20.0,
        max_depth_ms: float = 200.0,
        max_packets: int = 64,
    ) -> None:
        if clock_rate <= 0 or depth_ms < 0 or max_packets <= 0 or min_depth_ms > max_depth_ms:
            raise ValueError("invalid jitter buffer parameters")
        self.clock_rate = clock_rate
        self.depth_ms = float(depth_ms)
        self.adaptive = adaptive
        self.min_depth_ms = float(min_depth_ms)
        self.max_depth_ms = float(max_depth_ms)
        self.max_packets = max_packets
        self.pushed = 0
        self.played = 0
        self.late = 0
        self.duplicates = 0
        self.lost = 0
        self.overflows = 0
        self.resets = 0
        self._jitter_s = 0.0
        self._last_arrival: float | None = None
        self._last_ts = 0
        self._clear()
        self._ssrc: int | None = None

    @classmethod
    def in_packets(
        cls, packets: int, ptime_ms: float = 20.0, *, clock_rate: int = 8000, max_packets: int = 64
    ) -> JitterBuffer:
        """A fixed buffer delaying playout by ``packets`` packets of ``ptime_ms``."""
        return cls(clock_rate=clock_rate, depth_ms=packets * ptime_ms, max_packets=max_packets)

    def _clear(self) -> None:
        self._packets: dict[int, RtpPacket] = {}
        self._highest: int | None = None
        self._next: int | None = None
        self._anchor_time = 0.0
        self._anchor_ts = 0
        self._anchored = False

    def __len__(self) -> int:
        return len(self._packets)

    @property
    def jitter_ms(self) -> float:
        return self._jitter_s * 1000.0

    def _due(self, packet: RtpPacket) -> float:
        offset = timestamp_delta(packet.timestamp, self._anchor_ts) / self.clock_rate
        return self._anchor_time + self.depth_ms / 1000.0 + offset

    def _anchor(self, packet: RtpPacket, now: float) -> None:
        if self.adaptive:
            self.depth_ms = max(self.min_depth_ms, min(self.max_depth_ms, 4.0 * self.jitter_ms))
        self._anchor_time = now
        self._anchor_ts = packet.timestamp
        self._anchored = True

    def _track_jitter(self, packet: RtpPacket, now: float) -> None:
        if self._last_arrival is not None:
            d = abs((now - self._last_arrival) - timestamp_delta(packet.timestamp, self._last_ts) / self.clock_rate)
            self._jitter_s += (d - self._jitter_s) / 16.0
        self._last_arrival = now
        self._last_ts = packet.timestamp

    def push(self, packet: RtpPacket, now: float) -> PushResult:
        """Offer a received packet to the buffer."""
        self.pushed += 1
        result: PushResult = "queued"
        if self._ssrc is not None and packet.ssrc != self._ssrc:
            self._clear()
            self._last_arrival = None
            self.resets += 1
            result = "reset"
        self._ssrc = packet.ssrc
        if self._highest is None:
            ext = packet.sequence_number
        else:
            ext = self._highest + seq_delta(packet.sequence_number, self._highest & _U16)
            if abs(ext - self._highest) > MAX_DROPOUT:
                self._clear()
                self._last_arrival = None
                self.resets += 1
                result = "reset"
                ext = packet.sequence_number
        if self._next is not None and ext < self._next:
            self.late += 1
            return "late"
        if ext in self._packets:
            self.duplicates += 1
            return "duplicate"
        self._track_jitter(packet, now)
        was_empty = not self._packets
        if not self._anchored:
            self._anchor(packet, now)
        elif was_empty and (packet.marker or now > self._due(packet)):
            self._anchor(packet, now)
        if self._next is None:
            self._next = ext
        self._packets[ext] = packet
        if self._highest is None or ext > self._highest:
            self._highest = ext
        while len(self._packets) > self.max_packets:
            oldest = min(self._packets)
            del self._packets[oldest]
            self.overflows += 1
        return result

    def pop(self, now: float) -> JitterItem | None:
        """Return the next due item, or ``None`` if nothing is due yet."""
        if not self._packets or self._next is None:
            return None
        head = min(self._packets)
        packet = self._packets[head]
        if now < self._due(packet):
            return None
        if head > self._next:
            gap = Gap(self._next & _U16, head - self._next, self._next)
            self.lost += gap.count
            self._next = head
            return gap
        del self._packets[head]
        self._next = head + 1
        self.played += 1
        return Playout(packet, head)
