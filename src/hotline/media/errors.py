"""Exception hierarchy of the media core.

Every parser in :mod:`hotline.media` reports malformed network input by
raising a subclass of :class:`MediaParseError` and never anything else.
"""

from __future__ import annotations

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


class MediaError(Exception):
    """Base class of every error raised by :mod:`hotline.media`."""


class MediaParseError(MediaError, ValueError):
    """Malformed input received from the network (or a file)."""


class RtpParseError(MediaParseError):
    """An RTP packet could not be parsed."""


class RtcpParseError(MediaParseError):
    """An RTCP (compound) packet could not be parsed."""


class SdpParseError(MediaParseError):
    """A session description could not be parsed."""


class DtmfParseError(MediaParseError):
    """An RFC 4733 telephone-event payload could not be parsed."""


class WavParseError(MediaParseError):
    """A WAV (RIFF) header could not be parsed."""


class SdpNegotiationError(MediaError):
    """Offer/answer failed: nothing acceptable in the remote description.

    The SIP layer answers an INVITE that raises this with ``488 Not
    Acceptable Here``.
    """
