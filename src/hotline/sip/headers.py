"""Header fields: the ordered multi-dict and the typed values parsed on demand.

:class:`Headers` keeps every header line in order with its name in
canonical form (compact forms expanded: ``v`` → ``Via``, ``i`` → ``Call-ID``
...; unknown names keep their spelling and compare case-insensitively).  It
is immutable; ``with_*`` methods return a copy.

Typed values (:class:`Via`, :class:`Address`, :class:`CSeq`) are parsed only
when asked for, by the functions here or the accessors of
:class:`hotline.sip.message.Request`/``Response``, and raise
:class:`SipParseError` (naming the header) when malformed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from hotline.sip.errors import SipParseError
from hotline.sip.grammar import (
    TOKEN_CHARS,
    WS,
    Scanner,
    format_params,
    has_param,
    is_host,
    is_token,
    param_lookup,
    parse_port,
    quote,
    split_list,
    unquote,
)
from hotline.sip.uri import SipUri, Uri, parse_uri

__all__ = [
    "BRANCH_MAGIC",
    "COMPACT_FORMS",
    "LIST_HEADERS",
    "SINGLE_HEADERS",
    "Address",
    "CSeq",
    "Headers",
    "Via",
    "canonical_name",
    "parse_address",
    "parse_address_list",
    "parse_cseq",
    "parse_int",
    "parse_via_list",
]

BRANCH_MAGIC: Final = "z9hG4bK"

#: RFC 3261 §7.3.3 and the IANA registry of compact forms.
COMPACT_FORMS: Final[dict[str, str]] = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

_KNOWN: Final = [
    "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
    "Allow-Events", "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
    "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "Identity",
    "Identity-Info", "In-Reply-To", "Max-Forwards", "Min-Expires", "MIME-Version",
    "Organization", "Path", "Priority", "Proxy-Authenticate", "Proxy-Authorization",
    "Proxy-Require", "RAck", "Record-Route", "Refer-To", "Referred-By", "Reject-Contact",
    "Reply-To", "Request-Disposition", "Require", "Retry-After", "Route", "RSeq", "Server",
    "Service-Route", "Session-Expires", "Subject", "Subscription-State", "Supported",
    "Timestamp", "To", "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",
]
_CANONICAL: Final[dict[str, str]] = {name.lower(): name for name in _KNOWN} | {
    k: v for k, v in COMPACT_FORMS.items()
}

#: Headers whose value is a comma-separated list (RFC 3261 §7.3.1); only
#: these are split by :meth:`Headers.values`.
LIST_HEADERS: Final = frozenset(
    name.lower()
    for name in (
        "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
        "Allow-Events", "Call-Info", "Contact", "Content-Encoding", "Content-Language",
        "Error-Info", "In-Reply-To", "Path", "Proxy-Require", "Record-Route", "Reject-Contact",
        "Require", "Route", "Service-Route", "Supported", "Unsupported", "Via", "Warning",
    )
)

#: Headers that may appear at most once (RFC 3261 §20, Table 2/3).
SINGLE_HEADERS: Final = ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length",
                         "Content-Type", "Expires", "Date", "Min-Expires", "Content-Disposition",
                         "MIME-Version", "Priority", "Reply-To", "Retry-After", "Server",
                         "Subject", "Timestamp", "User-Agent", "Organization")


def canonical_name(name: str) -> str:
    """``"v"`` → ``"Via"``, ``"cseq"`` → ``"CSeq"``, unknown names unchanged."""
    return _CANONICAL.get(name.lower(), name)


_LOOKUP_CACHE: dict[str, str] = {}


def _lookup_name(name: str) -> str:
    """Lower-cased canonical name (cached for the names code asks for)."""
    cached = _LOOKUP_CACHE.get(name)
    if cached is None:
        cached = canonical_name(name).lower()
        if len(_LOOKUP_CACHE) < 4096:
            _LOOKUP_CACHE[name] = cached
    return cached


class Headers:
    """Ordered, immutable multi-dict of header fields."""

    __slots__ = ("_items", "_lower")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: tuple[tuple[str, str], ...] = tuple((canonical_name(n), v) for n, v in items)
        self._lower: tuple[str, ...] = tuple(n.lower() for n, _ in self._items)

    # reading -------------------------------------------------------------
    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return _lookup_name(name) in self._lower

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Headers({list(self._items)!r})"

    def items(self) -> tuple[tuple[str, str], ...]:
        return self._items

    def get_all(self, name: str) -> list[str]:
        """Field values of every header line with this name, in order."""
        lname = _lookup_name(name)
        if lname not in self._lower:
            return []
        return [item[1] for item, low in zip(self._items, self._lower) if low == lname]

    def get(self, name: str, default: str | None = None) -> str | None:
        """First field value, or ``default``."""
        lname = _lookup_name(name)
        try:
            return self._items[self._lower.index(lname)][1]
        except ValueError:
            return default

    def count(self, name: str) -> int:
        return len(self.get_all(name))

    def values(self, name: str) -> list[str]:
        """Every element of a list header (all lines, split at commas)."""
        canonical = canonical_name(name)
        lines = self.get_all(canonical)
        if canonical.lower() not in LIST_HEADERS:
            return lines
        out: list[str] = []
        for line in lines:
            if line.strip(WS):
                out.extend(split_list(line, canonical))
        return out

    # copying with changes ------------------------------------------------
    def with_added(self, name: str, value: str) -> Headers:
        return Headers(self._items + ((name, value),))

    def with_prepended(self, name: str, value: str) -> Headers:
        return Headers(((name, value),) + self._items)

    def without(self, name: str) -> Headers:
        lname = canonical_name(name).lower()
        return Headers(item for item in self._items if item[0].lower() != lname)

    def with_replaced(self, name: str, *values: str) -> Headers:
        """All lines called ``name`` replaced by ``values`` at the first one's
        place (appended when the header was absent)."""
        canonical = canonical_name(name)
        lname = canonical.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for n, v in self._items:
            if n.lower() == lname:
                if not placed:
                    out.extend((canonical, value) for value in values)
                    placed = True
            else:
                out.append((n, v))
        if not placed:
            out.extend((canonical, value) for value in values)
        return Headers(out)

    def without_first(self, name: str) -> Headers:
        """Remove the first element of a list header (e.g. the top Via)."""
        canonical = canonical_name(name)
        lname = canonical.lower()
        out: list[tuple[str, str]] = []
        done = False
        for n, v in self._items:
            if not done and n.lower() == lname:
                done = True
                rest = split_list(v, canonical)[1:] if canonical.lower() in LIST_HEADERS else []
                if rest:
                    out.append((n, ", ".join(rest)))
                continue
            out.append((n, v))
        return Headers(out)


# typed values -----------------------------------------------------------

Params = tuple[tuple[str, "str | None"], ...]


@dataclass(frozen=True)
class Via:
    """One Via element: ``SIP/2.0/UDP host:port;branch=...``."""

    transport: str
    host: str
    port: int | None = None
    params: Params = ()
    protocol: str = "SIP"
    version: str = "2.0"

    def __str__(self) -> str:
        port = "" if self.port is None else f":{self.port}"
        return f"{self.protocol}/{self.version}/{self.transport} {self.host}{port}{format_params(self.params)}"

    def param(self, name: str) -> str | None:
        return param_lookup(self.params, name)

    def has_param(self, name: str) -> bool:
        return has_param(self.params, name)

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    @property
    def sent_by(self) -> tuple[str, int | None]:
        return (self.host.lower(), self.port)

    @property
    def is_rfc3261_branch(self) -> bool:
        """Branch starts with the magic cookie *and* carries an identifier."""
        branch = self.branch
        return branch is not None and branch.startswith(BRANCH_MAGIC) and len(branch) > len(BRANCH_MAGIC)

    def with_param(self, name: str, value: str | None) -> Via:
        lname = name.lower()
        params = tuple(p for p in self.params if p[0].lower() != lname) + ((name, value),)
        return Via(self.transport, self.host, self.port, params, self.protocol, self.version)


@dataclass(frozen=True)
class Address:
    """name-addr or addr-spec with header parameters (From, To, Contact, Route...).

    ``display_name`` is unquoted (escapes resolved); ``params`` keep their
    values as on the wire (quoted-strings with their quotes).
    """

    uri: Uri
    display_name: str | None = None
    params: Params = ()

    def __str__(self) -> str:
        if self.display_name is not None:
            name = self.display_name
            shown = name if name and all(is_token(w) for w in name.split(" ")) else quote(name)
            head = f"{shown} <{self.uri}>"
        else:
            head = f"<{self.uri}>"
        return head + format_params(self.params)

    def param(self, name: str) -> str | None:
        return param_lookup(self.params, name)

    @property
    def tag(self) -> str | None:
        return self.param("tag")

    def with_tag(self, tag: str) -> Address:
        params = tuple(p for p in self.params if p[0].lower() != "tag") + (("tag", tag),)
        return Address(self.uri, self.display_name, params)

    @property
    def sip_uri(self) -> SipUri | None:
        return self.uri if isinstance(self.uri, SipUri) else None


@dataclass(frozen=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


_DIGITS = re.compile(r"^[0-9]+$")


def parse_int(value: str, where: str, maximum: int) -> int:
    """``1*DIGIT`` no larger than ``maximum``."""
    text = value.strip(WS)
    if not _DIGITS.match(text):
        raise SipParseError(f"not a number: {text[:20]!r}", header=where)
    if len(text.lstrip("0")) > len(str(maximum)) or int(text) > maximum:
        raise SipParseError(f"value larger than {maximum}", header=where)
    return int(text)


def parse_cseq(value: str) -> CSeq:
    """``1*DIGIT LWS Method``; the number must be below 2**31 (RFC 3261 §8.1.1.5)."""
    s = Scanner(value, "CSeq")
    s.skip_ws()
    number_text = s.take_while(frozenset("0123456789"))
    if not number_text:
        raise s.fail("missing sequence number")
    if not s.skip_ws():
        raise s.fail("expected whitespace after sequence number")
    method = s.take_token("method")
    s.skip_ws()
    if not s.at_end():
        raise s.fail("garbage after method")
    return CSeq(parse_int(number_text, "CSeq", 2**31 - 1), method)


def parse_via_list(value: str) -> list[Via]:
    return [_parse_via(part) for part in split_list(value, "Via")]


def _parse_via(text: str) -> Via:
    s = Scanner(text, "Via")
    s.skip_ws()
    protocol = s.take_token("protocol name")
    s.skip_ws()
    s.expect("/")
    s.skip_ws()
    version = s.take_token("protocol version")
    s.skip_ws()
    s.expect("/")
    s.skip_ws()
    transport = s.take_token("transport").upper()
    if not s.skip_ws():
        raise s.fail("expected whitespace before sent-by")
    if s.peek() == "[":
        start = s.pos
        end = s.text.find("]", start)
        if end < 0:
            raise s.fail("unterminated IPv6 reference")
        s.pos = end + 1
        host = s.text[start : s.pos]
    else:
        host = s.take_while(frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."))
    if not is_host(host):
        raise s.fail(f"bad sent-by host {host[:40]!r}")
    port: int | None = None
    s.skip_ws()
    if s.peek() == ":":
        s.pos += 1
        s.skip_ws()
        port = parse_port(s.take_while(frozenset("0123456789")), "Via")
    params = s.take_params()
    return Via(transport, host, port, params, protocol, version)


def parse_address(value: str, where: str, *, allow_star: bool = False) -> Address:
    """One name-addr / addr-spec followed by header parameters.

    Strict about RFC 3261 §20.10 / §25.1: spaces inside ``<...>`` and
    unquoted display names with non-token characters are errors, and an
    addr-spec (no angle brackets) may not contain ``?`` or ``,`` and ends at
    the first ``;`` (what follows are header parameters).
    """
    s = Scanner(value, where)
    s.skip_ws()
    display: str | None = None
    if s.peek() == '"':
        display = unquote(s.take_quoted())
        s.skip_ws()
        if s.peek() != "<":
            raise s.fail("expected '<' after display name")
    elif "<" in value:
        words: list[str] = []
        while s.peek() != "<":
            word = s.take_while(TOKEN_CHARS)
            if not word:
                raise s.fail(f"character {s.peek()!r} not allowed in an unquoted display name")
            words.append(word)
            s.skip_ws()
        display = " ".join(words) if words else None
    if s.peek() == "<":
        s.pos += 1
        end = s.text.find(">", s.pos)
        if end < 0:
            raise s.fail("missing '>'")
        inner = s.text[s.pos : end]
        if not inner or inner[0] in WS or inner[-1] in WS:
            raise s.fail("whitespace inside <...>")
        if " " in inner or "\t" in inner:
            raise s.fail("whitespace inside URI")
        uri = parse_uri(inner, where)
        s.pos = end + 1
    else:
        start = s.pos
        while not s.at_end() and s.peek() not in WS + ";":
            s.pos += 1
        text = s.text[start : s.pos]
        if not text:
            raise s.fail("missing URI")
        if "?" in text or "," in text:
            raise s.fail("a URI with '?' or ',' must be enclosed in <...>")
        uri = parse_uri(text, where)
    params = s.take_params()
    return Address(uri, display, params)


def parse_address_list(value: str, where: str) -> list[Address]:
    return [parse_address(part, where) for part in split_list(value, where)]
