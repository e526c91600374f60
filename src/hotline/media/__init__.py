"""Sans-IO media protocol core of hotline.

Pure functions and state machines for SDP offer/answer (RFC 4566/3264),
RTP/RTCP (RFC 3550), G.711, RFC 4733 DTMF, conference mixing and WAV
recording.  Nothing in this package opens sockets, starts tasks or reads a
clock: callers pass bytes in, get bytes/objects out, and pass ``now``
(float seconds, any monotonic origin) where time matters.

See ``docs/media.md`` for the API overview and invariants.
"""

from __future__ import annotations

from hotline.media.errors import (
    DtmfParseError,
    MediaError,
    MediaParseError,
    RtcpParseError,
    RtpParseError,
    SdpNegotiationError,
    SdpParseError,
    WavParseError,
)

__all__ = [
    "DtmfParseError",
    "MediaError",
    "MediaParseError",
    "RtcpParseError",
    "RtpParseError",
    "SdpNegotiationError",
    "SdpParseError",
    "WavParseError",
]
