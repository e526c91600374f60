"""SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966) and opaque absolute URIs.

:func:`parse_uri` returns a :class:`SipUri`, a :class:`TelUri` or, for any
other syntactically valid scheme, an :class:`AbsoluteUri` kept verbatim (a
server answers a request for one with 416, RFC 3261 §8.2.2.1).  Components
keep their ``%HH`` escapes as received so serialization is lossless;
:meth:`SipUri.unescaped_user` and :meth:`SipUri.key` give the decoded and the
RFC 3261 §19.1.4 comparison forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from hotline.sip.errors import SipParseError
from hotline.sip.grammar import (
    HNV_UNRESERVED,
    PARAM_UNRESERVED,
    PASSWORD_CHARS,
    UNRESERVED,
    USER_UNRESERVED,
    check_escapes,
    format_params,
    has_param,
    is_host,
    param_lookup,
    parse_port,
    unescape,
)

__all__ = ["AbsoluteUri", "SipUri", "TelUri", "Uri", "parse_uri"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")
_URIC = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789;/?:@&=+$,-_.!~*'()%[]#")
_PARAM_CHARS = UNRESERVED | PARAM_UNRESERVED
_HEADER_CHARS = UNRESERVED | HNV_UNRESERVED
_TEL_CHARS = frozenset("0123456789+-.()*#ABCDabcdpPwW") | UNRESERVED | PARAM_UNRESERVED | frozenset("=;")

Params = tuple[tuple[str, "str | None"], ...]


@dataclass(frozen=True)
class SipUri:
    """``sip:`` / ``sips:`` URI; ``host`` keeps IPv6 brackets."""

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()
    scheme: str = "sip"

    def __str__(self) -> str:
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(self.user)
            if self.password is not None:
                out.append(":" + self.password)
            out.append("@")
        out.append(self.host)
        if self.port is not None:
            out.append(f":{self.port}")
        out.append(format_params(self.params))
        if self.headers:
            out.append("?" + "&".join(f"{k}={v}" for k, v in self.headers))
        return "".join(out)

    def param(self, name: str) -> str | None:
        """Value of a URI parameter ("" for a flag like ``lr``), None if absent."""
        return param_lookup(self.params, name)

    def has_param(self, name: str) -> bool:
        return has_param(self.params, name)

    def unescaped_user(self) -> str | None:
        return None if self.user is None else unescape(self.user)

    @property
    def secure(self) -> bool:
        return self.scheme == "sips"

    def with_params(self, params: Params) -> SipUri:
        return SipUri(self.host, self.user, self.password, self.port, params, self.headers, self.scheme)

    def without_headers(self) -> SipUri:
        return SipUri(self.host, self.user, self.password, self.port, self.params, (), self.scheme)

    def key(self) -> tuple[object, ...]:
        """Comparison key after RFC 3261 §19.1.4: user part case- and
        escape-sensitive after unescaping, host and parameter names
        case-insensitive; the parameters ``user ttl method maddr transport``
        count, other parameters only when present on both sides (which a key
        cannot express, so :meth:`equivalent` does that)."""
        return (
            self.scheme.lower(),
            self.unescaped_user(),
            None if self.password is None else unescape(self.password),
            self.host.lower(),
            self.port,
        )

    def equivalent(self, other: SipUri) -> bool:
        """URI equality of RFC 3261 §19.1.4."""
        if self.key() != other.key():
            return False
        mine = {k.lower(): (None if v is None else unescape(v).lower()) for k, v in self.params}
        theirs = {k.lower(): (None if v is None else unescape(v).lower()) for k, v in other.params}
        for name in ("user", "ttl", "method", "maddr", "transport"):
            if mine.get(name) != theirs.get(name):
                return False
        for name in set(mine) & set(theirs):
            if mine[name] != theirs[name]:
                return False
        mine_h = {k.lower(): unescape(v) for k, v in self.headers}
        theirs_h = {k.lower(): unescape(v) for k, v in other.headers}
        return mine_h == theirs_h


@dataclass(frozen=True)
class TelUri:
    """``tel:`` URI (RFC 3966): the number and its parameters."""

    number: str
    params: Params = ()

    def __str__(self) -> str:
        return f"tel:{self.number}{format_params(self.params)}"

    @property
    def scheme(self) -> str:
        return "tel"

    def param(self, name: str) -> str | None:
        return param_lookup(self.params, name)


@dataclass(frozen=True)
class AbsoluteUri:
    """Any other scheme, kept verbatim (``scheme:opaque``)."""

    scheme: str
    opaque: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.opaque}"


Uri = Union[SipUri, TelUri, AbsoluteUri]


def parse_uri(text: str, where: str | None = None) -> Uri:
    """Parse a Request-URI or the URI inside a name-addr.

    Raises :class:`SipParseError` for anything that is not a URI (embedded
    whitespace, ``<...>``, bad escapes, bad host or port).
    """
    colon = text.find(":")
    if colon <= 0 or not _SCHEME.match(text[:colon]):
        raise SipParseError(f"not a URI: {text[:40]!r}", header=where)
    scheme = text[:colon].lower()
    rest = text[colon + 1 :]
    if scheme in ("sip", "sips"):
        return _parse_sip(scheme, rest, where)
    if scheme == "tel":
        return _parse_tel(rest, where)
    if not rest or any(c not in _URIC for c in rest):
        raise SipParseError(f"bad character in {scheme} URI", header=where)
    check_escapes(rest, _URIC - {"%"}, "URI", where)
    return AbsoluteUri(text[:colon], rest)


def _parse_sip(scheme: str, rest: str, where: str | None) -> SipUri:
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        if ":" in userinfo:
            user, password = userinfo.split(":", 1)
            check_escapes(password, PASSWORD_CHARS, "password", where)
        else:
            user = userinfo
        if not user:
            raise SipParseError("empty user part", header=where)
        check_escapes(user, UNRESERVED | USER_UNRESERVED, "user part", where)
    headers_text: str | None = None
    q = rest.find("?")
    if q >= 0:
        rest, headers_text = rest[:q], rest[q + 1 :]
    hostport, *param_texts = rest.split(";")
    port: int | None = None
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise SipParseError("unterminated IPv6 reference", header=where)
        host, tail = hostport[: end + 1], hostport[end + 1 :]
        if tail:
            if not tail.startswith(":"):
                raise SipParseError("garbage after host", header=where)
            port = parse_port(tail[1:], where or "uri")
    else:
        host, sep, port_text = hostport.partition(":")
        if sep:
            port = parse_port(port_text, where or "uri")
    if not is_host(host):
        raise SipParseError(f"bad host {host[:40]!r}", header=where)
    params: list[tuple[str, str | None]] = []
    for item in param_texts:
        name, eq, value = item.partition("=")
        if not name:
            raise SipParseError("empty URI parameter", header=where)
        check_escapes(name, _PARAM_CHARS, "URI parameter", where)
        if eq:
            if not value:
                raise SipParseError(f"empty value for URI parameter {name!r}", header=where)
            check_escapes(value, _PARAM_CHARS, "URI parameter", where)
            params.append((name, value))
        else:
            params.append((name, None))
    headers: list[tuple[str, str]] = []
    if headers_text is not None:
        for item in headers_text.split("&"):
            hname, eq, hvalue = item.partition("=")
            if not hname or not eq:
                raise SipParseError("bad URI header", header=where)
            check_escapes(hname, _HEADER_CHARS, "URI header", where)
            check_escapes(hvalue, _HEADER_CHARS, "URI header", where)
            headers.append((hname, hvalue))
    return SipUri(host, user, password, port, tuple(params), tuple(headers), scheme)


def _parse_tel(rest: str, where: str | None) -> TelUri:
    number, *param_texts = rest.split(";")
    if not number or any(c not in _TEL_CHARS for c in number):
        raise SipParseError("bad telephone number", header=where)
    params: list[tuple[str, str | None]] = []
    for item in param_texts:
        name, eq, value = item.partition("=")
        if not name:
            raise SipParseError("empty tel parameter", header=where)
        check_escapes(name + value, _PARAM_CHARS, "tel parameter", where)
        params.append((name, value if eq else None))
    return TelUri(number, tuple(params))
