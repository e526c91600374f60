"""One media leg: an asyncio RTP/RTCP endpoint on a pair of bound UDP ports.

:class:`RtpEndpoint` receives RTP (parsed with :mod:`hotline.media.rtp`),
keeps RFC 3550 receiver statistics, surfaces RFC 4733 digits, latches onto
the address packets really come from (symmetric RTP, for callers behind NAT),
remembers when the last packet arrived (media timeout) and sends RTP through
its :class:`OutStream`, which rewrites SSRC / sequence number / timestamp so
the peer sees one continuous stream whatever the source (the other leg,
another SSRC after a re-INVITE, generated silence, a conference mix).

Nothing here touches Django or the database.  Every callback runs inside the
protocol's ``datagram_received``; an exception raised by a callback is
counted and logged, never allowed to reach the event loop (asyncio would
close the transport).

The receive path is the media hot path (about 20,000 packets/s at 200
calls): the transport calls :meth:`RtpEndpoint._rtp_datagram` directly (no
protocol method in between), the common header (version 2, no padding,
extension or CSRCs) is read with one ``struct.unpack_from`` and no packet
object is built; only telephone-events and unusual headers go through
:class:`~hotline.media.rtp.RtpPacket`.  ``on_media`` receives the header
fields and the payload.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Final

from hotline.media.dtmf import DtmfDigit, DtmfReceiver
from hotline.media.errors import MediaParseError
from hotline.media.rtp import (
    RTP_HEADER_SIZE,
    Bye,
    ReceiverReport,
    ReceiverStats,
    RtcpPacket,
    RtpPacket,
    SdesChunk,
    SenderReport,
    SourceDescription,
    ntp_from_seconds,
    parse_rtcp,
    serialize_rtcp,
)

from hotline.pbx.ports import PortPair, RtpPortAllocator

__all__ = ["Addr", "Codec", "OutStream", "RtpEndpoint", "PCMU", "PCMA"]

log = logging.getLogger(__name__)

Addr = tuple[str, int]
_U16: Final = 0xFFFF
_U32: Final = 0xFFFFFFFF
_HEADER = struct.Struct("!BBHII")
_HEADER_PACK: Final = _HEADER.pack
_HEADER_UNPACK: Final = _HEADER.unpack_from


@dataclass(frozen=True, slots=True)
class Codec:
    """The negotiated audio format of one leg (from SDP offer/answer)."""

    name: str  # "PCMU" or "PCMA"
    payload_type: int
    clock_rate: int = 8000
    ptime_ms: int = 20
    dtmf_payload_type: int | None = 101

    def __post_init__(self) -> None:
        if self.name not in ("PCMU", "PCMA"):
            raise ValueError(f"unsupported codec {self.name!r} (PCMU or PCMA)")
        if not 0 <= self.payload_type < 128:
            raise ValueError("payload_type must be 0..127")
        if self.dtmf_payload_type is not None and not 0 <= self.dtmf_payload_type < 128:
            raise ValueError("dtmf_payload_type must be 0..127")

    @property
    def samples_per_packet(self) -> int:
        return self.clock_rate * self.ptime_ms // 1000


PCMU: Final = Codec("PCMU", 0)
PCMA: Final = Codec("PCMA", 8)


class OutStream:
    """Stamps what one leg sends: one SSRC, continuous sequence and timestamps.

    Packets relayed from a source keep their spacing (sequence and timestamp
    *offsets* per source, so loss and reordering stay visible to the peer);
    when the source changes (first packet, another SSRC, the other leg after
    a resume, generated audio) the offsets are recomputed so numbering
    continues from the last packet sent and the timestamp advances by the
    wall-clock time elapsed, and the packet gets the marker bit.
    """

    __slots__ = (
        "ssrc", "clock_rate", "seq", "ts", "last_time", "source", "_seq_off", "_ts_off",
        "packets", "octets", "_gen_seq", "_gen_ts",
    )

    def __init__(self, clock_rate: int = 8000, rng: random.Random | None = None) -> None:
        rnd = rng or random.SystemRandom()
        self.ssrc = rnd.getrandbits(32)
        self.clock_rate = clock_rate
        self.seq = rnd.getrandbits(16)  # last sequence number sent (or initial - 1)
        self.ts = rnd.getrandbits(32)
        self.last_time: float | None = None
        self.source: Hashable | None = None
        self._seq_off = 0
        self._ts_off = 0
        self.packets = 0
        self.octets = 0
        self._gen_seq = 0
        self._gen_ts = 0

    def restart(self) -> None:
        """Force the next packet to start a new source (marker, continuity)."""
        self.source = None

    def stamp(self, source: Hashable, in_seq: int, in_ts: int, now: float, marker: bool) -> tuple[int, int, bool]:
        """Map one source packet's (seq, ts) into this stream."""
        if source != self.source:
            if self.last_time is None:
                next_ts = self.ts
            else:
                elapsed = max(1, round((now - self.last_time) * self.clock_rate))
                next_ts = self.ts + elapsed
            self._seq_off = (self.seq + 1 - in_seq) & _U16
            self._ts_off = (next_ts - in_ts) & _U32
            self.source = source
            marker = True
        seq = (in_seq + self._seq_off) & _U16
        ts = (in_ts + self._ts_off) & _U32
        if ((seq - self.seq) & _U16) < 0x8000:
            self.seq = seq
        if ((ts - self.ts) & _U32) < 0x80000000:
            self.ts = ts
        self.last_time = now
        return seq, ts, marker

    def generated(self, samples: int, now: float) -> tuple[int, int, bool]:
        """Stamp one locally generated packet of ``samples`` samples."""
        seq, ts, marker = self.stamp(_GENERATED, self._gen_seq, self._gen_ts, now, False)
        self._gen_seq = (self._gen_seq + 1) & _U16
        self._gen_ts = (self._gen_ts + samples) & _U32
        return seq, ts, marker


_GENERATED: Final = "generated"


class _RtpProtocol(asyncio.DatagramProtocol):
    def __init__(self, endpoint: RtpEndpoint) -> None:
        self.endpoint = endpoint
        # The transport looks the method up on each datagram: bind the
        # endpoint's handler itself and save a Python call per packet.
        self.datagram_received = endpoint._rtp_datagram  # type: ignore[method-assign]

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        self.endpoint._rtp_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        self.endpoint.send_errors += 1  # e.g. ICMP port unreachable: the peer is gone


class _RtcpProtocol(asyncio.DatagramProtocol):
    def __init__(self, endpoint: RtpEndpoint) -> None:
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        self.endpoint._rtcp_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        self.endpoint.send_errors += 1


#: ``on_media(endpoint, payload_type, sequence_number, timestamp, ssrc, marker, payload, now)``
MediaCallback = Callable[["RtpEndpoint", int, int, int, int, bool, bytes, float], None]
DtmfCallback = Callable[["RtpEndpoint", DtmfDigit], None]


class RtpEndpoint:
    """One leg's RTP + RTCP sockets, statistics, latching and sending.

    Create with :meth:`open`.  ``remote`` is the address from the peer's
    SDP (``None`` when unknown); with ``latch=True`` (symmetric RTP,
    RFC 4961 / the usual NAT traversal) the endpoint sends to the source of
    the first valid RTP packet instead, and ignores other sources unless the
    latched one has been silent for ``relatch_after`` seconds (NAT
    rebinding).  ``on_media(endpoint, payload_type, sequence_number,
    timestamp, ssrc, marker, payload, now)`` is called for each accepted
    RTP packet (audio and telephone-events), ``on_dtmf(endpoint, digit)``
    once per key press.
    """

    def __init__(
        self,
        pair: PortPair,
        *,
        codec: Codec = PCMU,
        remote: Addr | None = None,
        remote_rtcp: Addr | None = None,
        latch: bool = True,
        relatch_after: float = 2.0,
        clock: Callable[[], float] | None = None,
        name: str = "",
        cname: str = "hotline",
    ) -> None:
        self.pair = pair
        self.codec = codec
        self.name = name or f"rtp:{pair.port}"
        self.remote = remote
        self.remote_rtcp = remote_rtcp
        self.latch = latch
        self.relatch_after = relatch_after
        self.latched = False
        self.cname = cname.encode()
        self._clock = clock
        self.on_media: MediaCallback | None = None
        self.on_dtmf: DtmfCallback | None = None
        self.stats: ReceiverStats | None = None
        self.dtmf = DtmfReceiver(codec.dtmf_payload_type if codec.dtmf_payload_type is not None else -1, codec.clock_rate)
        self.out = OutStream(codec.clock_rate)
        self.last_rx: float | None = None
        self.opened_at = 0.0
        # counters
        self.received = 0
        self.garbage = 0
        self.foreign = 0
        self.callback_errors = 0
        self.rtcp_received = 0
        self.sent = 0
        self.unsent = 0
        self.send_errors = 0
        self.rtcp_sent = 0
        self.closed = False
        self._rtp: asyncio.DatagramTransport | None = None
        self._rtcp: asyncio.DatagramTransport | None = None
        self._allocator: RtpPortAllocator | None = None
        self._rtcp_latched: Addr | None = None

    # -- life cycle -------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        allocator: RtpPortAllocator,
        *,
        codec: Codec = PCMU,
        remote: Addr | None = None,
        remote_rtcp: Addr | None = None,
        latch: bool = True,
        relatch_after: float = 2.0,
        name: str = "",
    ) -> RtpEndpoint:
        """Allocate a port pair and start receiving on it."""
        pair = allocator.allocate()
        endpoint = cls(
            pair, codec=codec, remote=remote, remote_rtcp=remote_rtcp, latch=latch,
            relatch_after=relatch_after, name=name,
        )
        try:
            loop = asyncio.get_running_loop()
            if endpoint._clock is None:
                endpoint._clock = loop.time
            endpoint.opened_at = endpoint._clock()
            endpoint._allocator = allocator
            rtp, _ = await loop.create_datagram_endpoint(lambda: _RtpProtocol(endpoint), sock=pair.rtp)
            endpoint._rtp = rtp
            rtcp, _ = await loop.create_datagram_endpoint(lambda: _RtcpProtocol(endpoint), sock=pair.rtcp)
            endpoint._rtcp = rtcp
        except BaseException:
            if endpoint._rtp is not None:
                endpoint._rtp.abort()
            allocator.release(pair)
            raise
        return endpoint

    def set_codec(self, codec: Codec) -> None:
        """Change the negotiated format (before bridging: SDP answers come after the offer's port)."""
        self.codec = codec
        self.dtmf = DtmfReceiver(codec.dtmf_payload_type if codec.dtmf_payload_type is not None else -1, codec.clock_rate)

    @property
    def port(self) -> int:
        return self.pair.port

    @property
    def local_address(self) -> Addr:
        return (self.pair.host, self.pair.port)

    def now(self) -> float:
        assert self._clock is not None
        return self._clock()

    def close(self) -> None:
        """Stop receiving, close both sockets and give the ports back (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.on_media = None
        self.on_dtmf = None
        for transport in (self._rtp, self._rtcp):
            if transport is not None:
                transport.abort()
        if self._allocator is not None:
            self._allocator.release(self.pair)

    # -- receiving ----------------------------------------------------------------

    def _accept_source(self, addr: Addr, now: float) -> bool:
        if not self.latch:
            return True
        if not self.latched:
            self.remote = addr
            self.latched = True
            return True
        if addr == self.remote:
            return True
        if self.last_rx is not None and now - self.last_rx >= self.relatch_after:
            log.info("%s: re-latching from %s to %s", self.name, self.remote, addr)
            self.remote = addr
            self._rtcp_latched = None
            return True
        self.foreign += 1
        return False

    def _rtp_datagram(self, data: bytes, addr: Addr) -> None:
        if self.closed:
            return
        n = len(data)
        if n >= RTP_HEADER_SIZE and data[0] == 0x80:  # V=2, no padding, extension or CSRCs
            _, b1, seq, ts, ssrc = _HEADER_UNPACK(data)
            if 192 <= b1 <= 223:  # RTCP on the RTP port (RFC 5761)
                self._rtcp_datagram(data, addr)
                return
            payload = data[RTP_HEADER_SIZE:]
        else:
            if n >= 2 and 192 <= data[1] <= 223:
                self._rtcp_datagram(data, addr)
                return
            try:
                packet = RtpPacket.parse(data)
            except MediaParseError:
                self.garbage += 1
                return
            b1 = packet.payload_type | (0x80 if packet.marker else 0)
            seq, ts, ssrc, payload = packet.sequence_number, packet.timestamp, packet.ssrc, packet.payload
        now = self._clock()  # type: ignore[misc]
        if self.latch and (not self.latched or addr != self.remote) and not self._accept_source(addr, now):
            return
        self.received += 1
        self.last_rx = now
        stats = self.stats
        if stats is None or stats.ssrc != ssrc:
            stats = self.stats = ReceiverStats(self.codec.clock_rate, ssrc)
        stats.update_fields(ssrc, seq, ts, now)
        pt = b1 & 0x7F
        try:
            if pt == self.codec.dtmf_payload_type and self.on_dtmf is not None:
                event = RtpPacket(pt, seq, ts, ssrc, payload, bool(b1 & 0x80))
                for digit in self.dtmf.feed(event, now):
                    self.on_dtmf(self, digit)
            on_media = self.on_media
            if on_media is not None:
                on_media(self, pt, seq, ts, ssrc, b1 >= 0x80, payload, now)
        except Exception:
            self.callback_errors += 1
            if self.callback_errors <= 3:
                log.exception("%s: error while handling an RTP packet", self.name)

    def _rtcp_datagram(self, data: bytes, addr: Addr) -> None:
        if self.closed:
            return
        try:
            packets = parse_rtcp(data)
        except MediaParseError:
            self.garbage += 1
            return
        if self.latch and self.latched and addr[0] != self.remote_host:
            self.foreign += 1
            return
        self.rtcp_received += 1
        if self.latch:
            self._rtcp_latched = addr
        now = self.now()
        for p in packets:
            if isinstance(p, SenderReport) and self.stats is not None and p.ssrc == self.stats.ssrc:
                self.stats.on_sender_report(p, now)

    @property
    def remote_host(self) -> str | None:
        return self.remote[0] if self.remote is not None else None

    def tick(self, now: float) -> None:
        """Housekeeping: close DTMF events whose end packets were lost."""
        if self.on_dtmf is None:
            return
        for digit in self.dtmf.expire(now):
            try:
                self.on_dtmf(self, digit)
            except Exception:
                self.callback_errors += 1
                log.exception("%s: error in DTMF callback", self.name)

    # -- sending ------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Send one datagram to the current remote RTP address (dropped when unknown)."""
        if self.remote is None or self._rtp is None or self.closed:
            self.unsent += 1
            return
        self._rtp.sendto(data, self.remote)
        self.sent += 1

    def relay(self, source: Hashable, payload_type: int, seq: int, ts: int, marker: bool, payload: bytes, now: float) -> None:
        """Send a packet from ``source`` through this leg's continuous stream."""
        remote = self.remote
        transport = self._rtp
        if remote is None or transport is None or self.closed:  # not latched yet and no SDP address
            self.unsent += 1
            return
        out = self.out
        if source == out.source:  # the common case, inlined from OutStream.stamp
            oseq = (seq + out._seq_off) & _U16
            ots = (ts + out._ts_off) & _U32
            if ((oseq - out.seq) & _U16) < 0x8000:
                out.seq = oseq
            if ((ots - out.ts) & _U32) < 0x80000000:
                out.ts = ots
            out.last_time = now
        else:
            oseq, ots, marker = out.stamp(source, seq, ts, now, marker)
        out.packets += 1
        out.octets += len(payload)
        transport.sendto(_HEADER_PACK(0x80, (0x80 if marker else 0) | payload_type, oseq, ots, out.ssrc) + payload, remote)
        self.sent += 1

    def send_generated(self, payload: bytes, samples: int, now: float, payload_type: int | None = None) -> None:
        """Send locally produced audio (silence, a conference mix, a prompt)."""
        if self.remote is None:
            self.unsent += 1
            return
        out = self.out
        oseq, ots, omark = out.generated(samples, now)
        out.packets += 1
        out.octets += len(payload)
        pt = self.codec.payload_type if payload_type is None else payload_type
        self.send_raw(_HEADER.pack(0x80, (0x80 if omark else 0) | pt, oseq, ots, out.ssrc) + payload)

    def rtcp_report(self, now: float, unix_now: float, *, bye: bool = False) -> bytes:
        """A compound RTCP packet: SR (if we sent) or RR, SDES CNAME, optional BYE."""
        blocks = (self.stats.report_block(now),) if self.stats is not None and self.stats.received else ()
        out = self.out
        first: RtcpPacket
        if out.packets:
            elapsed = 0 if out.last_time is None else max(0, round((now - out.last_time) * out.clock_rate))
            first = SenderReport(
                out.ssrc, ntp_from_seconds(unix_now), (out.ts + elapsed) & _U32,
                out.packets & _U32, out.octets & _U32, blocks,
            )
        else:
            first = ReceiverReport(out.ssrc, blocks)
        packets: list[RtcpPacket] = [first, SourceDescription((SdesChunk(out.ssrc, ((1, self.cname),)),))]
        if bye:
            packets.append(Bye((out.ssrc,)))
        return serialize_rtcp(packets)

    def rtcp_address(self) -> Addr | None:
        if self._rtcp_latched is not None:
            return self._rtcp_latched
        if self.remote_rtcp is not None and not self.latched:
            return self.remote_rtcp
        if self.remote is not None:
            return (self.remote[0], self.remote[1] + 1)
        return None

    def send_rtcp(self, now: float, unix_now: float, *, bye: bool = False) -> None:
        addr = self.rtcp_address()
        if addr is None or self._rtcp is None or self.closed:
            return
        self._rtcp.sendto(self.rtcp_report(now, unix_now, bye=bye), addr)
        self.rtcp_sent += 1

    def counters(self) -> dict[str, int | float]:
        """Figures for logs and CDRs."""
        stats = self.stats
        return {
            "received": self.received,
            "sent": self.sent,
            "garbage": self.garbage,
            "foreign": self.foreign,
            "lost": stats.cumulative_lost if stats else 0,
            "jitter_ms": round(stats.jitter_ms, 2) if stats else 0.0,
            "rtcp_received": self.rtcp_received,
            "rtcp_sent": self.rtcp_sent,
        }
