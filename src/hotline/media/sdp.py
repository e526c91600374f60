"""SDP (RFC 4566) and the offer/answer model (RFC 3264) for audio calls.

Parsing and serialization are lossless for the line types hotline
understands (``v o s i u e p c b t r z k a m``); unknown line types are
dropped, as RFC 4566 §5 allows.  :meth:`SessionDescription.parse` raises
:class:`~hotline.media.errors.SdpParseError` on malformed input and nothing
else; typed accessors on attributes (``rtpmaps()``, ``ptime``, ``rtcp``...)
raise the same error when the attribute value is malformed.

:class:`SdpSession` keeps the local side of one dialog's offer/answer
exchange: it builds offers (PCMU, PCMA, telephone-event), answers remote
offers (first mutually supported codec in the offerer's order, mirrored
direction, rejected m-lines with port 0 in the same order) and processes
answers, returning a :class:`NegotiatedAudio` that the RTP engine applies.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Final, Literal

from hotline.media.errors import SdpNegotiationError, SdpParseError

__all__ = [
    "PCMA",
    "PCMU",
    "Attribute",
    "Codec",
    "Connection",
    "Direction",
    "MediaDescription",
    "NegotiatedAudio",
    "Origin",
    "RtpMap",
    "SdpSession",
    "SessionDescription",
    "Timing",
    "format_event_ranges",
    "parse_event_ranges",
    "parse_sdp",
]

Direction = Literal["sendrecv", "sendonly", "recvonly", "inactive"]
DIRECTIONS: Final[tuple[Direction, ...]] = ("sendrecv", "sendonly", "recvonly", "inactive")
RTP_PROTOS: Final = frozenset({"RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF"})
SUPPORTED_PROTO: Final = "RTP/AVP"
NULL_ADDRESSES: Final = frozenset({"0.0.0.0"})

#: RFC 3551 static payload types: pt -> (encoding, clock rate, channels).
STATIC_PAYLOAD_TYPES: Final[dict[int, tuple[str, int, int]]] = {
    0: ("PCMU", 8000, 1),
    3: ("GSM", 8000, 1),
    4: ("G723", 8000, 1),
    5: ("DVI4", 8000, 1),
    6: ("DVI4", 16000, 1),
    7: ("LPC", 8000, 1),
    8: ("PCMA", 8000, 1),
    9: ("G722", 8000, 1),
    10: ("L16", 44100, 2),
    11: ("L16", 44100, 1),
    12: ("QCELP", 8000, 1),
    13: ("CN", 8000, 1),
    14: ("MPA", 90000, 1),
    15: ("G728", 8000, 1),
    16: ("DVI4", 11025, 1),
    17: ("DVI4", 22050, 1),
    18: ("G729", 8000, 1),
}


def _int(text: str, what: str, lo: int = 0, hi: int | None = None) -> int:
    if not text.isascii() or not text.isdigit():
        raise SdpParseError(f"invalid {what}: {text!r}")
    value = int(text)
    if value < lo or (hi is not None and value > hi):
        raise SdpParseError(f"{what} out of range: {value}")
    return value


# --------------------------------------------------------------------------- data model


@dataclass(slots=True)
class Origin:
    """``o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>``"""

    username: str
    session_id: str
    session_version: int
    nettype: str
    addrtype: str
    address: str

    @classmethod
    def parse(cls, value: str) -> Origin:
        parts = value.split()
        if len(parts) != 6:
            raise SdpParseError(f"o= needs 6 fields: {value!r}")
        version = _int(parts[2], "session version")
        return cls(parts[0], parts[1], version, parts[3], parts[4], parts[5])

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} {self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(slots=True)
class Connection:
    """``c=<nettype> <addrtype> <connection-address>`` (address may carry /ttl)."""

    nettype: str
    addrtype: str
    address: str

    @classmethod
    def parse(cls, value: str) -> Connection:
        parts = value.split()
        if len(parts) != 3:
            raise SdpParseError(f"c= needs 3 fields: {value!r}")
        return cls(parts[0], parts[1], parts[2])

    @property
    def host(self) -> str:
        """The address without any ``/ttl`` or ``/count`` suffix."""
        return self.address.split("/", 1)[0]

    @property
    def is_null(self) -> bool:
        """``c=IN IP4 0.0.0.0``: RFC 2543 style hold."""
        return self.host in NULL_ADDRESSES

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(slots=True)
class Timing:
    """``t=<start> <stop>`` and its ``r=`` repeat lines (kept verbatim)."""

    start: int = 0
    stop: int = 0
    repeats: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, value: str) -> Timing:
        parts = value.split()
        if len(parts) != 2:
            raise SdpParseError(f"t= needs 2 fields: {value!r}")
        return cls(_int(parts[0], "start time"), _int(parts[1], "stop time"))

    def __str__(self) -> str:
        return f"{self.start} {self.stop}"


@dataclass(slots=True)
class Attribute:
    """``a=<name>`` (property) or ``a=<name>:<value>``."""

    name: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Attribute:
        name, sep, value = text.partition(":")
        if not name:
            raise SdpParseError(f"empty attribute name: {text!r}")
        return cls(name, value if sep else None)

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}:{self.value}"


@dataclass(frozen=True, slots=True)
class RtpMap:
    """``a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]``"""

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None

    @classmethod
    def parse(cls, value: str) -> RtpMap:
        parts = value.split(None, 1)
        if len(parts) != 2:
            raise SdpParseError(f"invalid rtpmap: {value!r}")
        pt = _int(parts[0], "payload type", 0, 127)
        fields = parts[1].strip().split("/")
        if len(fields) not in (2, 3) or not fields[0]:
            raise SdpParseError(f"invalid rtpmap encoding: {value!r}")
        rate = _int(fields[1], "clock rate", 1)
        channels = _int(fields[2], "channels", 1) if len(fields) == 3 else None
        return cls(pt, fields[0], rate, channels)

    def __str__(self) -> str:
        tail = f"/{self.channels}" if self.channels is not None else ""
        return f"{self.payload_type} {self.encoding}/{self.clock_rate}{tail}"


def _direction_of(attributes: list[Attribute]) -> Direction | None:
    found: Direction | None = None
    for attr in attributes:
        if attr.value is None:
            for d in DIRECTIONS:
                if attr.name == d:
                    found = d
    return found


@dataclass(slots=True)
class MediaDescription:
    """One ``m=`` section."""

    media: str
    port: int
    proto: str
    formats: list[str]
    port_count: int | None = None
    information: str | None = None
    connections: list[Connection] = field(default_factory=list)
    bandwidths: list[str] = field(default_factory=list)
    key: str | None = None
    attributes: list[Attribute] = field(default_factory=list)

    @classmethod
    def parse_m_line(cls, value: str) -> MediaDescription:
        parts = value.split()
        if len(parts) < 3:
            raise SdpParseError(f"m= needs at least 3 fields: {value!r}")
        port_text, slash, count_text = parts[1].partition("/")
        port = _int(port_text, "port", 0, 65535)
        count = _int(count_text, "port count", 1) if slash else None
        return cls(parts[0], port, parts[2], parts[3:], count)

    def m_line(self) -> str:
        port = f"{self.port}/{self.port_count}" if self.port_count is not None else str(self.port)
        return " ".join([self.media, port, self.proto, *self.formats])

    # -- attribute helpers ---------------------------------------------------

    def get(self, name: str) -> str | None:
        """Value of the first attribute called ``name`` (``""`` for a flag)."""
        for attr in self.attributes:
            if attr.name == name:
                return "" if attr.value is None else attr.value
        return None

    def get_all(self, name: str) -> list[str]:
        return ["" if a.value is None else a.value for a in self.attributes if a.name == name]

    @property
    def is_rtp(self) -> bool:
        return self.proto.upper() in RTP_PROTOS

    @property
    def payload_types(self) -> list[int]:
        """Formats as integers (RTP profiles only)."""
        return [_int(f, "payload type", 0, 127) for f in self.formats]

    def rtpmaps(self) -> dict[int, RtpMap]:
        maps: dict[int, RtpMap] = {}
        for value in self.get_all("rtpmap"):
            m = RtpMap.parse(value)
            maps.setdefault(m.payload_type, m)
        return maps

    def fmtps(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for value in self.get_all("fmtp"):
            pt_text, _, params = value.partition(" ")
            out.setdefault(_int(pt_text, "fmtp payload type", 0, 127), params.strip())
        return out

    def codec_for(self, payload_type: int) -> tuple[str, int, int] | None:
        """(encoding, clock rate, channels) from rtpmap or the static table."""
        m = self.rtpmaps().get(payload_type)
        if m is not None:
            return (m.encoding, m.clock_rate, m.channels or 1)
        return STATIC_PAYLOAD_TYPES.get(payload_type)

    @property
    def ptime(self) -> int | None:
        value = self.get("ptime")
        if value is None:
            return None
        text = value.strip()
        whole, _, frac = text.partition(".")
        if frac and not frac.isdigit():
            raise SdpParseError(f"invalid ptime: {value!r}")
        return _int(whole, "ptime", 1, 10000)

    @property
    def rtcp(self) -> tuple[int, str | None] | None:
        """RFC 3605 ``a=rtcp:<port> [IN IP4 <addr>]`` -> (port, address)."""
        value = self.get("rtcp")
        if value is None:
            return None
        parts = value.split()
        if len(parts) not in (1, 4):
            raise SdpParseError(f"invalid rtcp attribute: {value!r}")
        port = _int(parts[0], "rtcp port", 0, 65535)
        return (port, parts[3] if len(parts) == 4 else None)

    @property
    def direction(self) -> Direction | None:
        """Direction attribute of this m-line, if present."""
        return _direction_of(self.attributes)

    def set_direction(self, direction: Direction) -> None:
        self.attributes = [a for a in self.attributes if not (a.value is None and a.name in DIRECTIONS)]
        self.attributes.append(Attribute(direction))


@dataclass(slots=True)
class SessionDescription:
    """A whole SDP body."""

    origin: Origin
    session_name: str = "-"
    version: int = 0
    information: str | None = None
    uri: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    connection: Connection | None = None
    bandwidths: list[str] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=lambda: [Timing()])
    zone: str | None = None
    key: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    media: list[MediaDescription] = field(default_factory=list)

    @classmethod
    def parse(cls, data: str | bytes | bytearray | memoryview) -> SessionDescription:
        """Parse an SDP body; raise :class:`SdpParseError` if malformed.

        Accepts CRLF or bare LF line endings and ignores empty lines.
        ``v=0`` must come first and ``o=`` must be present.
        """
        if isinstance(data, str):
            text = data
        else:
            raw = bytes(data)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
        lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
        lines = [line for line in lines if line]
        if not lines or lines[0].strip() != "v=0":
            raise SdpParseError("SDP must start with v=0")
        origin: Origin | None = None
        session_name: str | None = None
        desc = cls(origin=Origin("-", "0", 0, "IN", "IP4", "0.0.0.0"), timings=[])
        current: MediaDescription | None = None
        for line in lines[1:]:
            if len(line) < 2 or line[1] != "=" or not ("a" <= line[0] <= "z"):
                raise SdpParseError(f"invalid SDP line: {line[:40]!r}")
            kind, value = line[0], line[2:]
            if kind == "m":
                current = MediaDescription.parse_m_line(value)
                desc.media.append(current)
                continue
            if current is not None:
                if kind == "a":
                    current.attributes.append(Attribute.parse(value))
                elif kind == "c":
                    current.connections.append(Connection.parse(value))
                elif kind == "b":
                    current.bandwidths.append(value)
                elif kind == "i":
                    current.information = value
                elif kind == "k":
                    current.key = value
                elif kind in "vostuepzr":
                    raise SdpParseError(f"{kind}= not allowed in a media section")
                continue
            if kind == "v":
                raise SdpParseError("duplicate v= line")
            elif kind == "o":
                if origin is not None:
                    raise SdpParseError("duplicate o= line")
                origin = Origin.parse(value)
            elif kind == "s":
                session_name = value
            elif kind == "i":
                desc.information = value
            elif kind == "u":
                desc.uri = value
            elif kind == "e":
                desc.emails.append(value)
            elif kind == "p":
                desc.phones.append(value)
            elif kind == "c":
                if desc.connection is not None:
                    raise SdpParseError("duplicate session-level c= line")
                desc.connection = Connection.parse(value)
            elif kind == "b":
                desc.bandwidths.append(value)
            elif kind == "t":
                desc.timings.append(Timing.parse(value))
            elif kind == "r":
                if not desc.timings:
                    raise SdpParseError("r= before t=")
                desc.timings[-1].repeats.append(value)
            elif kind == "z":
                desc.zone = value
            elif kind == "k":
                desc.key = value
            elif kind == "a":
                desc.attributes.append(Attribute.parse(value))
        if origin is None:
            raise SdpParseError("missing o= line")
        desc.origin = origin
        desc.session_name = session_name if session_name is not None else "-"
        if not desc.timings:
            desc.timings.append(Timing())
        return desc

    def serialize(self) -> str:
        """Render with CRLF line endings, in RFC 4566 order."""
        out = [f"v={self.version}", f"o={self.origin}", f"s={self.session_name}"]
        if self.information is not None:
            out.append(f"i={self.information}")
        if self.uri is not None:
            out.append(f"u={self.uri}")
        out += [f"e={e}" for e in self.emails]
        out += [f"p={p}" for p in self.phones]
        if self.connection is not None:
            out.append(f"c={self.connection}")
        out += [f"b={b}" for b in self.bandwidths]
        for timing in self.timings:
            out.append(f"t={timing}")
            out += [f"r={r}" for r in timing.repeats]
        if self.zone is not None:
            out.append(f"z={self.zone}")
        if self.key is not None:
            out.append(f"k={self.key}")
        out += [f"a={a}" for a in self.attributes]
        for m in self.media:
            out.append(f"m={m.m_line()}")
            if m.information is not None:
                out.append(f"i={m.information}")
            out += [f"c={c}" for c in m.connections]
            out += [f"b={b}" for b in m.bandwidths]
            if m.key is not None:
                out.append(f"k={m.key}")
            out += [f"a={a}" for a in m.attributes]
        return "\r\n".join(out) + "\r\n"

    def __str__(self) -> str:
        return self.serialize()

    def to_bytes(self) -> bytes:
        return self.serialize().encode("utf-8")

    def copy(self) -> SessionDescription:
        """Deep copy (descriptions are mutable)."""
        return SessionDescription.parse(self.serialize())

    # -- helpers ---------------------------------------------------------------

    def connection_for(self, media: MediaDescription) -> Connection | None:
        """Media-level c= if present, else the session-level one."""
        return media.connections[0] if media.connections else self.connection

    def direction_for(self, media: MediaDescription) -> Direction:
        """Media-level direction, else session-level, else sendrecv."""
        return media.direction or _direction_of(self.attributes) or "sendrecv"


def parse_sdp(data: str | bytes | bytearray | memoryview) -> SessionDescription:
    """Shorthand for :meth:`SessionDescription.parse`."""
    return SessionDescription.parse(data)


# --------------------------------------------------------------------------- telephone-event ranges


def parse_event_ranges(value: str) -> frozenset[int]:
    """``"0-11,16"`` -> {0..11, 16} (RFC 4733 §2.4.1 fmtp)."""
    events: set[int] = set()
    for item in value.replace(" ", "").split(","):
        if not item:
            continue
        lo_text, dash, hi_text = item.partition("-")
        lo = _int(lo_text, "event", 0, 255)
        hi = _int(hi_text, "event", 0, 255) if dash else lo
        if hi < lo:
            raise SdpParseError(f"invalid event range {item!r}")
        events.update(range(lo, hi + 1))
    return frozenset(events)


def format_event_ranges(events: frozenset[int] | set[int]) -> str:
    """{0..11, 16} -> ``"0-11,16"``."""
    out: list[str] = []
    ordered = sorted(events)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


# --------------------------------------------------------------------------- offer / answer

_TE: Final = "telephone-event"
SUPPORTED_EVENTS: Final = frozenset(range(17))
DEFAULT_EVENTS: Final = frozenset(range(16))  # RFC 4733 §2.4.1 when no fmtp


@dataclass(frozen=True, slots=True)
class Codec:
    """An audio codec as negotiated (payload type as used on the wire)."""

    encoding: str
    clock_rate: int
    payload_type: int
    channels: int = 1

    def matches(self, encoding: str, clock_rate: int, channels: int) -> bool:
        return (
            self.encoding.lower() == encoding.lower() and self.clock_rate == clock_rate and self.channels == channels
        )

    def with_payload_type(self, payload_type: int) -> Codec:
        return dataclasses.replace(self, payload_type=payload_type)


PCMU: Final = Codec("PCMU", 8000, 0)
PCMA: Final = Codec("PCMA", 8000, 8)


def _flags(direction: Direction) -> tuple[bool, bool]:
    return (direction in ("sendrecv", "sendonly"), direction in ("sendrecv", "recvonly"))


def _from_flags(send: bool, recv: bool) -> Direction:
    if send and recv:
        return "sendrecv"
    if send:
        return "sendonly"
    if recv:
        return "recvonly"
    return "inactive"


@dataclass(frozen=True, slots=True)
class NegotiatedAudio:
    """Result of offer/answer for the audio stream, from the local viewpoint.

    ``direction`` is what *we* do (``sendonly``: we send, we do not
    receive).  ``remote_hold`` is True when the remote side does not want
    to receive media (``sendonly``/``inactive`` or ``c=0.0.0.0``): the
    remote has put the call on hold.
    """

    media_index: int
    remote_address: str
    remote_port: int
    remote_rtcp_address: str
    remote_rtcp_port: int
    codec: Codec
    telephone_event: int | None
    telephone_events: frozenset[int]
    ptime: int
    direction: Direction
    remote_hold: bool

    @property
    def send(self) -> bool:
        return _flags(self.direction)[0]

    @property
    def receive(self) -> bool:
        return _flags(self.direction)[1]


def _remote_flags(desc: SessionDescription, media: MediaDescription) -> tuple[bool, bool]:
    """(remote sends, remote receives), honouring c=0.0.0.0 old-style hold."""
    send, recv = _flags(desc.direction_for(media))
    conn = desc.connection_for(media)
    if conn is not None and conn.is_null:
        recv = False
    return send, recv


def _remote_endpoint(desc: SessionDescription, media: MediaDescription) -> tuple[str, int, str, int]:
    conn = desc.connection_for(media)
    if conn is None:
        raise SdpNegotiationError("audio stream without c= line")
    rtcp = media.rtcp
    rtcp_port = media.port + 1
    rtcp_address = conn.host
    if rtcp is not None:
        rtcp_port = rtcp[0]
        if rtcp[1] is not None:
            rtcp_address = rtcp[1]
    # a=rtcp-mux is never answered/offered by us, so RTCP is never muxed
    # (RFC 5761 §5.1.1: muxing needs both sides to agree).
    return conn.host, media.port, rtcp_address, rtcp_port


class SdpSession:
    """Local state of one dialog's SDP offer/answer exchanges.

    ``session_id`` should be unique per dialog (e.g. random 32/62-bit
    integer chosen by the caller); ``o=`` keeps it for the whole dialog and
    increments the version each time the local description changes
    (RFC 3264 §8), whether it is sent as an offer or an answer.
    """

    def __init__(
        self,
        address: str,
        port: int,
        *,
        session_id: int,
        initial_version: int = 0,
        username: str = "hotline",
        session_name: str = "hotline",
        codecs: tuple[Codec, ...] = (PCMU, PCMA),
        telephone_event_pt: int | None = 101,
        ptime: int = 20,
    ) -> None:
        if not 0 <= port <= 65535:
            raise ValueError("port out of range")
        if not codecs:
            raise ValueError("at least one codec is required")
        if any(ch in username + address for ch in " \t\r\n") or any(ch in session_name for ch in "\r\n"):
            raise ValueError("username/address must not contain whitespace, session_name no line breaks")
        self.address = address
        self.port = port
        self.session_id = session_id
        self.version = initial_version
        self.username = username
        self.session_name = session_name
        self.codecs = codecs
        self.telephone_event_pt = telephone_event_pt
        self.ptime = ptime
        self.local: SessionDescription | None = None
        self.remote: SessionDescription | None = None
        self._pending_offer: SessionDescription | None = None

    @property
    def addrtype(self) -> str:
        return "IP6" if ":" in self.address else "IP4"

    def _skeleton(self, timings: list[Timing] | None = None) -> SessionDescription:
        return SessionDescription(
            origin=Origin(self.username, str(self.session_id), self.version, "IN", self.addrtype, self.address),
            session_name=self.session_name,
            connection=Connection("IN", self.addrtype, self.address),
            timings=[Timing(t.start, t.stop) for t in timings] if timings else [Timing()],
        )

    def _audio_media(self, codecs: list[Codec], te_pt: int | None, events: frozenset[int], direction: Direction) -> MediaDescription:
        formats = [str(c.payload_type) for c in codecs]
        attrs = [Attribute("rtpmap", f"{c.payload_type} {c.encoding}/{c.clock_rate}") for c in codecs]
        if te_pt is not None:
            formats.append(str(te_pt))
            attrs.append(Attribute("rtpmap", f"{te_pt} {_TE}/8000"))
            attrs.append(Attribute("fmtp", f"{te_pt} {format_event_ranges(events)}"))
        attrs.append(Attribute("ptime", str(self.ptime)))
        attrs.append(Attribute(direction))
        return MediaDescription("audio", self.port, SUPPORTED_PROTO, formats, attributes=attrs)

    def _stamp(self, desc: SessionDescription) -> SessionDescription:
        """Apply RFC 3264 §8 versioning against the previous local SDP."""
        if self.local is not None:
            desc.origin.session_version = self.local.origin.session_version
            if desc.serialize() != self.local.serialize():
                self.version += 1
        desc.origin.session_version = self.version
        self.local = desc
        return desc.copy()

    def create_offer(self, direction: Direction = "sendrecv") -> SessionDescription:
        """Offer PCMU, PCMA (in ``codecs`` order) and telephone-event 0-16.

        Use ``direction="sendonly"`` to put the remote on hold and
        ``"sendrecv"`` to resume.
        """
        desc = self._skeleton()
        desc.media.append(self._audio_media(list(self.codecs), self.telephone_event_pt, SUPPORTED_EVENTS, direction))
        offer = self._stamp(desc)
        self._pending_offer = offer
        return offer.copy()

    def create_answer(
        self, offer: SessionDescription, direction: Direction = "sendrecv"
    ) -> tuple[SessionDescription, NegotiatedAudio]:
        """Answer a remote offer (RFC 3264 §6).

        The first ``m=audio`` line with port != 0, proto ``RTP/AVP`` and a
        supported codec is accepted; every other m-line is rejected with
        port 0, keeping the m-line order.  Raise
        :class:`SdpNegotiationError` if nothing is acceptable.
        """
        answer = self._skeleton(offer.timings)
        negotiated: NegotiatedAudio | None = None
        for index, media in enumerate(offer.media):
            accepted: MediaDescription | None = None
            if negotiated is None and media.media == "audio" and media.port != 0 and media.proto == SUPPORTED_PROTO:
                result = self._answer_audio(offer, media, index, direction)
                if result is not None:
                    accepted, negotiated = result
            if accepted is None:
                accepted = MediaDescription(media.media, 0, media.proto, list(media.formats) or ["0"])
            answer.media.append(accepted)
        if negotiated is None:
            raise SdpNegotiationError("no acceptable audio stream in offer")
        self.remote = offer
        self._pending_offer = None
        return self._stamp(answer), negotiated

    def _answer_audio(
        self, offer: SessionDescription, media: MediaDescription, index: int, direction: Direction
    ) -> tuple[MediaDescription, NegotiatedAudio] | None:
        chosen: Codec | None = None
        te_pt: int | None = None
        try:
            pts = media.payload_types
        except SdpParseError:
            return None
        for pt in pts:
            info = media.codec_for(pt)
            if info is None:
                continue
            if chosen is None:
                for codec in self.codecs:
                    if codec.matches(*info):
                        chosen = codec.with_payload_type(pt)
                        break
        if chosen is None:
            return None
        events: frozenset[int] = frozenset()
        if self.telephone_event_pt is not None:
            fmtps = media.fmtps()
            for pt in pts:
                info = media.codec_for(pt)
                if info is not None and info[0].lower() == _TE and info[1] == chosen.clock_rate:
                    offered = parse_event_ranges(fmtps[pt]) if pt in fmtps else DEFAULT_EVENTS
                    if offered & SUPPORTED_EVENTS:
                        te_pt, events = pt, offered & SUPPORTED_EVENTS
                        break
        remote_send, remote_recv = _remote_flags(offer, media)
        want_send, want_recv = _flags(direction)
        ours = _from_flags(want_send and remote_recv, want_recv and remote_send)
        address, port, rtcp_address, rtcp_port = _remote_endpoint(offer, media)
        answer_media = self._audio_media([chosen], te_pt, events, ours)
        negotiated = NegotiatedAudio(
            media_index=index,
            remote_address=address,
            remote_port=port,
            remote_rtcp_address=rtcp_address,
            remote_rtcp_port=rtcp_port,
            codec=chosen,
            telephone_event=te_pt,
            telephone_events=events,
            ptime=media.ptime or 20,
            direction=ours,
            remote_hold=not remote_recv,
        )
        return answer_media, negotiated

    def process_answer(self, answer: SessionDescription) -> NegotiatedAudio:
        """Apply the remote answer to our pending offer (RFC 3264 §7)."""
        offer = self._pending_offer
        if offer is None:
            raise SdpNegotiationError("no offer pending")
        if len(answer.media) != len(offer.media):
            raise SdpNegotiationError("answer has a different number of m-lines than the offer")
        index = 0
        ours = offer.media[index]
        media = answer.media[index]
        if media.port == 0:
            raise SdpNegotiationError("remote rejected the audio stream")
        if media.media != ours.media or media.proto != ours.proto:
            raise SdpNegotiationError("answer m-line does not match the offer")
        offered = {c.payload_type: c for c in self.codecs}
        chosen: Codec | None = None
        te_pt: int | None = None
        events: frozenset[int] = frozenset()
        try:
            pts = media.payload_types
            fmtps = media.fmtps()
            for pt in pts:
                info = media.codec_for(pt)
                if info is None:
                    continue
                if chosen is None:
                    for codec in self.codecs:
                        if codec.matches(*info):
                            chosen = codec.with_payload_type(pt)
                            break
                    if chosen is None and pt in offered and pt < 96:
                        chosen = offered[pt]
                if te_pt is None and info[0].lower() == _TE and info[1] == 8000 and self.telephone_event_pt is not None:
                    te_pt = pt
                    events = (parse_event_ranges(fmtps[pt]) if pt in fmtps else DEFAULT_EVENTS) & SUPPORTED_EVENTS
        except SdpParseError as exc:
            raise SdpNegotiationError(f"unusable answer: {exc}") from exc
        if chosen is None:
            raise SdpNegotiationError("answer contains no codec we offered")
        remote_send, remote_recv = _remote_flags(answer, media)
        offered_send, offered_recv = _flags(offer.direction_for(ours))
        direction = _from_flags(offered_send and remote_recv, offered_recv and remote_send)
        address, port, rtcp_address, rtcp_port = _remote_endpoint(answer, media)
        self.remote = answer
        self._pending_offer = None
        return NegotiatedAudio(
            media_index=index,
            remote_address=address,
            remote_port=port,
            remote_rtcp_address=rtcp_address,
            remote_rtcp_port=rtcp_port,
            codec=chosen,
            telephone_event=te_pt,
            telephone_events=events,
            ptime=media.ptime or 20,
            direction=direction,
            remote_hold=not remote_recv,
        )
