"""Exception hierarchy of the SIP core.

Malformed network input raises :class:`SipParseError` (also a ``ValueError``)
and nothing else.  Misuse of the API by our own code (sending a response in
a state that does not allow it) raises :class:`SipLocalError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.sip.headers import Headers

__all__ = ["SipError", "SipLocalError", "SipParseError"]


class SipError(Exception):
    """Base class of every error raised by :mod:`hotline.sip`."""


class SipParseError(SipError, ValueError):
    """Malformed input received from the network.

    ``status`` is the response a server should send for a request that fails
    this way (400, or 505 for an unknown SIP version); ``header`` names the
    offending header field when there is one.  When the header section could
    be read, ``headers`` holds it and ``is_request`` says which kind of start
    line was seen, so a server can still answer 400 (RFC 3261 §8.2) instead
    of dropping the message.
    """

    def __init__(
        self,
        message: str,
        *,
        header: str | None = None,
        status: int = 400,
        headers: Headers | None = None,
        is_request: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.header = header
        self.status = status
        self.headers = headers
        self.is_request = is_request

    def __str__(self) -> str:
        return f"{self.header}: {self.message}" if self.header else self.message


class SipLocalError(SipError):
    """Our own code used the API in a way the protocol does not allow."""
