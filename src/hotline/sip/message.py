"""SIP requests and responses (RFC 3261 §7): parsing, accessors, serialization.

* :func:`parse_message` reads one UDP datagram (or one framed stream message):
  start line (strict: single spaces, three-digit status code), header lines
  (folding undone, compact names expanded), and the body by Content-Length
  (over UDP a missing Content-Length means "to the end of the datagram",
  extra octets after the body are discarded, RFC 3261 §18.3).
* :class:`StreamFramer` cuts a TCP/TLS byte stream into messages by
  Content-Length (mandatory on streams) and reports RFC 5626 keep-alive
  pings (CRLFCRLF).
* :class:`Request` / :class:`Response` are frozen; typed header values are
  parsed on demand by their accessors (``vias()``, ``from_addr()``,
  ``cseq()``...), each raising :class:`SipParseError` naming the header.

Bytes are decoded as UTF-8 with ``surrogateescape`` so that any octet
sequence round-trips through :meth:`Request.serialize`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Final, Union

from hotline.sip.errors import SipParseError
from hotline.sip.grammar import WS, is_token
from hotline.sip.headers import (
    Address,
    CSeq,
    Headers,
    Via,
    canonical_name,
    parse_address,
    parse_address_list,
    parse_cseq,
    parse_int,
    parse_via_list,
)
from hotline.sip.uri import Uri, parse_uri

__all__ = [
    "KeepAlive",
    "Message",
    "Request",
    "Response",
    "StreamFramer",
    "parse_message",
    "response_for",
    "response_for_headers",
]

MAX_HEAD_BYTES: Final = 65536
MAX_BODY_BYTES: Final = 1 << 20
_VERSION = re.compile(r"^SIP/[0-9]+\.[0-9]+$")
_STATUS = re.compile(r"^[0-9]{3}$")

#: Reason phrases of RFC 3261 §21 and common extensions.
REASONS: Final[dict[int, str]] = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy", 380: "Alternative Service",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
    413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required",
    423: "Interval Too Brief", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 491: "Request Pending", 493: "Undecipherable",
    500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
    513: "Message Too Large", 600: "Busy Everywhere", 603: "Decline",
    604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}


@dataclass(frozen=True)
class _Message:
    headers: Headers
    body: bytes = b""
    version: str = "SIP/2.0"

    # typed accessors (each raises SipParseError naming the header) -------
    def _single(self, name: str) -> str:
        values = self.headers.get_all(name)
        if not values:
            raise SipParseError("missing", header=name)
        if len(values) > 1:
            raise SipParseError("appears more than once", header=name)
        return values[0]

    def vias(self) -> list[Via]:
        out: list[Via] = []
        for line in self.headers.get_all("Via"):
            out.extend(parse_via_list(line))
        if not out:
            raise SipParseError("missing", header="Via")
        return out

    def top_via(self) -> Via:
        return self.vias()[0]

    def from_addr(self) -> Address:
        return parse_address(self._single("From"), "From")

    def to_addr(self) -> Address:
        return parse_address(self._single("To"), "To")

    def call_id(self) -> str:
        value = self._single("Call-ID").strip(WS)
        if not value or any(c in WS for c in value):
            raise SipParseError("bad Call-ID", header="Call-ID")
        return value

    def cseq(self) -> CSeq:
        return parse_cseq(self._single("CSeq"))

    def contacts(self) -> list[Address]:
        """Contact addresses ([] when absent); ``*`` is refused here, see :meth:`contact_is_star`."""
        if self.contact_is_star():
            raise SipParseError("'*' is not an address", header="Contact")
        return [addr for line in self.headers.get_all("Contact") for addr in parse_address_list(line, "Contact")]

    def contact_is_star(self) -> bool:
        return [v.strip(WS) for v in self.headers.get_all("Contact")] == ["*"]

    def routes(self) -> list[Address]:
        return [a for line in self.headers.get_all("Route") for a in parse_address_list(line, "Route")]

    def record_routes(self) -> list[Address]:
        return [a for line in self.headers.get_all("Record-Route") for a in parse_address_list(line, "Record-Route")]

    def max_forwards(self) -> int | None:
        if "Max-Forwards" not in self.headers:
            return None
        return parse_int(self._single("Max-Forwards"), "Max-Forwards", 255)

    def content_length(self) -> int | None:
        if "Content-Length" not in self.headers:
            return None
        return parse_int(self._single("Content-Length"), "Content-Length", 2**32 - 1)

    def content_type(self) -> str | None:
        value = self.headers.get("Content-Type")
        return None if value is None else value.split(";", 1)[0].strip(WS).lower()

    def option_tags(self, name: str) -> list[str]:
        """Elements of Require / Proxy-Require / Supported / Unsupported."""
        return [v.strip(WS) for v in self.headers.values(name)]

    def _head_lines(self) -> list[str]:
        """Header lines with one Content-Length (from the body) at its place."""
        lines = []
        placed = False
        for name, value in self.headers:
            if name.lower() == "content-length":
                if not placed:
                    lines.append(f"Content-Length: {len(self.body)}")
                    placed = True
                continue
            lines.append(f"{name}: {value}")
        if not placed:
            lines.append(f"Content-Length: {len(self.body)}")
        return lines


def _with_length(headers: Headers, body: bytes) -> Headers:
    return headers.with_replaced("Content-Length", str(len(body)))


@dataclass(frozen=True)
class Request(_Message):
    method: str = "OPTIONS"
    uri: Uri = field(default_factory=lambda: parse_uri("sip:invalid"))

    @classmethod
    def build(cls, method: str, uri: Uri, headers: Headers, body: bytes = b"") -> Request:
        return cls(headers=_with_length(headers, body), body=body, method=method, uri=uri)

    def serialize(self) -> bytes:
        """Wire form; Content-Length is (re)written from the body."""
        start = f"{self.method} {self.uri} {self.version}"
        return ("\r\n".join([start, *self._head_lines()]) + "\r\n\r\n").encode("utf-8", "surrogateescape") + self.body

    def replace(self, **changes: object) -> Request:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Response(_Message):
    status: int = 200
    reason: str = "OK"

    @classmethod
    def build(cls, status: int, headers: Headers, body: bytes = b"", reason: str | None = None) -> Response:
        return cls(headers=_with_length(headers, body), body=body, status=status, reason=REASONS.get(status, "") if reason is None else reason)

    def serialize(self) -> bytes:
        start = f"{self.version} {self.status} {self.reason}"
        return ("\r\n".join([start, *self._head_lines()]) + "\r\n\r\n").encode("utf-8", "surrogateescape") + self.body

    def replace(self, **changes: object) -> Response:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


Message = Union[Request, Response]


@dataclass(frozen=True)
class KeepAlive:
    """An RFC 5626 CRLFCRLF ping on a stream (answer with one CRLF)."""


def _split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """(head, rest-after-blank-line) or None when no blank line yet."""
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n")
    if crlf < 0 and lf < 0:
        return None
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return data[:crlf], data[crlf + 4 :]
    return data[:lf], data[lf + 2 :]


def _parse_head(head: bytes) -> tuple[str, Headers]:
    text = head.decode("utf-8", "surrogateescape")
    lines = re.split(r"\r?\n", text)
    start = lines[0]
    items: list[tuple[str, str]] = []
    error: SipParseError | None = None
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            if not items:
                error = error or SipParseError("continuation line before any header")
                continue
            name, value = items[-1]
            items[-1] = (name, (value + " " + line.strip(WS)).strip(WS))
            continue
        name, colon, value = line.partition(":")
        name = name.rstrip(WS)
        if not colon or not is_token(name):
            error = error or SipParseError(f"malformed header line {line[:40]!r}")
            continue
        items.append((name, value.strip(WS)))
    headers = Headers(items)
    if error is not None:
        error.headers = headers
        raise error
    return start, headers


def _parse_start(start: str, headers: Headers) -> tuple[bool, tuple[str, str, str]]:
    """(is_request, parts) with strict single-space separation."""
    if start.startswith("SIP/"):
        version, sp, rest = start.partition(" ")
        code, _, reason = rest.partition(" ")
        if not sp or not _VERSION.match(version):
            raise SipParseError("malformed status line", headers=headers, is_request=False)
        if not _STATUS.match(code) or not 100 <= int(code) <= 699:
            raise SipParseError(f"bad status code {code[:12]!r}", headers=headers, is_request=False)
        return False, (version, code, reason)
    parts = start.split(" ")
    if len(parts) != 3 or not all(parts):
        raise SipParseError("malformed request line (Method SP Request-URI SP SIP-Version)", headers=headers, is_request=True)
    method, uri, version = parts
    if not is_token(method):
        raise SipParseError("bad method", headers=headers, is_request=True)
    if not _VERSION.match(version):
        raise SipParseError("bad SIP version", headers=headers, is_request=True)
    return True, (method, uri, version)


def _content_length(headers: Headers, is_request: bool) -> int | None:
    values = headers.get_all("Content-Length")
    if not values:
        return None
    if len(values) > 1:
        raise SipParseError("appears more than once", header="Content-Length", headers=headers, is_request=is_request)
    try:
        return parse_int(values[0], "Content-Length", MAX_BODY_BYTES)
    except SipParseError as exc:
        exc.headers, exc.is_request = headers, is_request
        raise


def _build(start: str, headers: Headers, body: bytes) -> Message:
    is_request, (a, b, c) = _parse_start(start, headers)
    if is_request:
        try:
            uri = parse_uri(b, "Request-URI")
        except SipParseError as exc:
            exc.headers, exc.is_request = headers, True
            raise
        return Request(headers=headers, body=body, version=c, method=a, uri=uri)
    return Response(headers=headers, body=body, version=a, status=int(b), reason=c)


def parse_message(data: bytes, *, stream: bool = False) -> Message:
    """Parse one datagram (``stream=False``) or one already framed stream message.

    Raises :class:`SipParseError` and nothing else.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise SipParseError("not bytes")
    data = bytes(data).lstrip(b"\r\n")
    split = _split_head(data)
    if split is None:
        raise SipParseError("no blank line after the header section")
    head, rest = split
    if len(head) > MAX_HEAD_BYTES:
        raise SipParseError("header section too large")
    start, headers = _parse_head(head)
    is_request = not start.startswith("SIP/")
    length = _content_length(headers, is_request)
    if length is None:
        if stream:
            raise SipParseError("missing on a stream transport", header="Content-Length", headers=headers, is_request=is_request)
        body = rest
    else:
        if length > len(rest):
            raise SipParseError(
                f"says {length} octets, only {len(rest)} received",
                header="Content-Length", headers=headers, is_request=is_request,
            )
        body = rest[:length]
    return _build(start, headers, body)


class StreamFramer:
    """Cut a TCP/TLS byte stream into messages (RFC 3261 §18.3).

    ``feed(data)`` returns, in order, the complete :class:`Request`/
    :class:`Response` messages and :class:`KeepAlive` pings found so far, and
    a :class:`SipParseError` *object* for each well-framed message whose start
    line or Request-URI is malformed (answer it with 400 using its
    ``headers``; the stream goes on).  A framing error (missing, repeated or
    bad Content-Length, oversized head) is *raised*: the stream cannot be
    resynchronised, the connection should be closed, and every later call
    raises it again.
    """

    def __init__(self, *, max_head: int = MAX_HEAD_BYTES, max_body: int = MAX_BODY_BYTES) -> None:
        self._buffer = bytearray()
        self._max_head = max_head
        self._max_body = max_body
        self._broken: SipParseError | None = None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Message | KeepAlive | SipParseError]:
        if self._broken is not None:
            raise self._broken
        self._buffer.extend(data)
        out: list[Message | KeepAlive | SipParseError] = []
        while True:
            # keep-alive pings (CRLFCRLF) and stray CRLFs between messages
            if self._buffer.startswith(b"\r\n\r\n"):
                del self._buffer[:4]
                out.append(KeepAlive())
                continue
            if bytes(self._buffer[:1]) in (b"\r", b"\n"):
                if b"\r\n\r\n".startswith(bytes(self._buffer)):
                    return out  # could still become a ping
                del self._buffer[:1]
                continue
            split = _split_head(bytes(self._buffer))
            if split is None:
                if len(self._buffer) > self._max_head:
                    self._broken = SipParseError("header section too large")
                    raise self._broken
                return out
            head, rest = split
            if len(head) > self._max_head:
                self._broken = SipParseError("header section too large")
                raise self._broken
            try:
                start, headers = _parse_head(head)
                length = _content_length(headers, not start.startswith("SIP/"))
                if length is None:
                    raise SipParseError("missing on a stream transport", header="Content-Length", headers=headers)
                if length > self._max_body:
                    raise SipParseError("body too large", header="Content-Length", headers=headers)
            except SipParseError as exc:
                self._broken = exc
                raise
            if len(rest) < length:
                return out
            consumed = len(self._buffer) - len(rest) + length
            body = bytes(rest[:length])
            del self._buffer[:consumed]
            try:
                out.append(_build(start, headers, body))
            except SipParseError as exc:
                out.append(exc)  # framed but malformed: answer 400, the stream goes on


def response_for_headers(
    headers: Headers,
    status: int,
    *,
    reason: str | None = None,
    to_tag: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> Response:
    """A response built from a request's raw headers (RFC 3261 §8.2.6.2).

    Via (all values, in order), From, Call-ID and CSeq are copied verbatim;
    To is copied and gets ``to_tag`` when it has no tag yet (and the status is
    not 100).  Works on the partial headers of a :class:`SipParseError` too.
    """
    items: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, value in headers:
        lname = name.lower()
        if lname in seen:
            continue  # a single-value header repeated in the request: copy the first
        if lname in ("from", "call-id", "cseq", "to"):
            seen.add(lname)
        if lname in ("via", "from", "call-id", "cseq"):
            items.append((name, value))
        elif lname == "to":
            if to_tag is not None and status != 100:
                try:
                    has_tag = parse_address(value, "To").tag is not None
                except SipParseError:
                    has_tag = True
                if not has_tag:
                    value = f"{value};tag={to_tag}"
            items.append((name, value))
    items.extend(extra)
    return Response.build(status, Headers(items), body, reason)


def response_for(
    request: Request,
    status: int,
    *,
    reason: str | None = None,
    to_tag: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> Response:
    """The response to ``request`` with the mandatory headers copied."""
    return response_for_headers(request.headers, status, reason=reason, to_tag=to_tag, extra=extra, body=body)
