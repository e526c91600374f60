"""RTP port allocation over a configurable range of even ports.

Each media leg gets an even port for RTP and the next odd port for RTCP
(RFC 3550 §11).  The allocator *binds* both UDP sockets before handing them
out, so a port taken by another program is skipped instead of failing later;
ports are handed out round-robin so a just-released port (whose stray packets
may still be in flight) is reused as late as possible.

Configuration: ``HOTLINE_RTP_PORTS`` (default ``20000-30000``), parsed
strictly by :func:`port_range_from_env`.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass, field
from typing import Final

from hotline.lib.env import ConfigError, envstr

__all__ = [
    "DEFAULT_RTP_PORTS",
    "PortPair",
    "PortRange",
    "PortsExhausted",
    "RtpPortAllocator",
    "parse_port_range",
    "port_range_from_env",
]

DEFAULT_RTP_PORTS: Final = "20000-30000"
ENV_NAME: Final = "HOTLINE_RTP_PORTS"


class PortsExhausted(RuntimeError):
    """No free RTP/RTCP port pair is left in the configured range."""


@dataclass(frozen=True, slots=True)
class PortRange:
    """Inclusive port range; ``first`` is even, pairs are (even, even + 1)."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if self.first % 2 or not 1024 <= self.first < self.last <= 65535:
            raise ValueError(f"invalid RTP port range {self.first}-{self.last}")

    @property
    def pairs(self) -> int:
        """Number of (RTP, RTCP) pairs that fit in the range."""
        return (self.last - self.first + 1) // 2

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


def parse_port_range(text: str) -> PortRange:
    """``"20000-30000"`` -> :class:`PortRange`; raise ``ValueError`` naming the rule.

    Rules: two integers separated by ``-``; the first is even and at least
    1024; the last is at most 65535 and leaves room for at least one pair.
    """
    parts = text.strip().split("-")
    if len(parts) != 2:
        raise ValueError(f"expected FIRST-LAST (e.g. {DEFAULT_RTP_PORTS}), got {text!r}")
    try:
        first, last = int(parts[0]), int(parts[1])
    except ValueError:
        raise ValueError(f"ports must be integers, got {text!r}") from None
    if first < 1024:
        raise ValueError(f"first port must be at least 1024, got {first}")
    if last > 65535:
        raise ValueError(f"last port must be at most 65535, got {last}")
    if first % 2:
        raise ValueError(f"first port must be even (RTP even, RTCP odd), got {first}")
    if last < first + 1:
        raise ValueError(f"range must hold at least one RTP/RTCP pair, got {text!r}")
    return PortRange(first, last)


def port_range_from_env(name: str = ENV_NAME, default: str = DEFAULT_RTP_PORTS) -> PortRange:
    """The RTP port range from the environment; :class:`ConfigError` when invalid."""
    value = envstr(name, default) or default
    try:
        return parse_port_range(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


@dataclass(slots=True)
class PortPair:
    """Two bound, non-blocking UDP sockets: RTP on ``port``, RTCP on ``port + 1``.

    Ownership of the sockets passes to whoever wraps them in a transport;
    give the pair back with :meth:`RtpPortAllocator.release` (which closes
    sockets that are still open).
    """

    host: str
    port: int
    rtp: socket.socket = field(repr=False)
    rtcp: socket.socket = field(repr=False)

    @property
    def rtcp_port(self) -> int:
        return self.port + 1


class RtpPortAllocator:
    """Hands out bound (RTP, RTCP) socket pairs from a :class:`PortRange`.

    ``allocate()`` raises :class:`PortsExhausted` when every pair in the
    range is either handed out or taken by another program.  ``release``
    is idempotent.
    """

    def __init__(self, ports: PortRange, host: str = "0.0.0.0") -> None:
        self.ports = ports
        self.host = host
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._in_use: set[int] = set()
        self._next = ports.first
        self.skipped_busy = 0

    @property
    def in_use(self) -> int:
        return len(self._in_use)

    @property
    def capacity(self) -> int:
        return self.ports.pairs

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(self._family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((self.host, port))
        except BaseException:
            sock.close()
            raise
        return sock

    def allocate(self) -> PortPair:
        """Bind the next free pair (round-robin); raise :class:`PortsExhausted`."""
        first, pairs = self.ports.first, self.ports.pairs
        for _ in range(pairs):
            port = self._next
            self._next += 2
            if self._next + 1 > self.ports.last:
                self._next = first
            if port in self._in_use:
                continue
            try:
                rtp = self._bind(port)
            except OSError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
                self.skipped_busy += 1
                continue
            try:
                rtcp = self._bind(port + 1)
            except OSError as exc:
                rtp.close()
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
                self.skipped_busy += 1
                continue
            self._in_use.add(port)
            return PortPair(self.host, port, rtp, rtcp)
        raise PortsExhausted(
            f"no free RTP port pair in {self.ports} ({self.in_use} of {pairs} pairs in use by this server, "
            f"the rest busy elsewhere); widen {ENV_NAME} or lower the call limit"
        )

    def release(self, pair: PortPair) -> None:
        """Close the pair's sockets (if still open) and free its port."""
        for sock in (pair.rtp, pair.rtcp):
            if sock.fileno() != -1:
                sock.close()
        self._in_use.discard(pair.port)
