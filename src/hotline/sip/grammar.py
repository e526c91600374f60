"""RFC 3261 §25 character classes and a small scanner for header values.

Internal helpers shared by :mod:`hotline.sip.uri` and
:mod:`hotline.sip.headers`.  Every failure raises :class:`SipParseError`.
"""

from __future__ import annotations

import re
from typing import Final

from hotline.sip.errors import SipParseError

ALNUM: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
TOKEN_CHARS: Final = ALNUM | frozenset("-.!%*_+`'~")
WORD_CHARS: Final = TOKEN_CHARS | frozenset('()<>:\\"/[]?{}')
MARK: Final = frozenset("-_.!~*'()")
UNRESERVED: Final = ALNUM | MARK
USER_UNRESERVED: Final = frozenset("&=+$,;?/")
PASSWORD_CHARS: Final = UNRESERVED | frozenset("&=+$,")
PARAM_UNRESERVED: Final = frozenset("[]/:&+$")
HNV_UNRESERVED: Final = frozenset("[]/?:+$")
HEX: Final = frozenset("0123456789abcdefABCDEF")
WS: Final = " \t"
#: Parameter values: token, host (IPv6 references) or quoted-string.
GEN_VALUE_CHARS: Final = TOKEN_CHARS | frozenset(":[]")

_HOSTNAME = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$")
_IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")


_RUN_PATTERNS: dict[frozenset[str], re.Pattern[str]] = {}


def _run_pattern(chars: frozenset[str]) -> re.Pattern[str]:
    pattern = _RUN_PATTERNS.get(chars)
    if pattern is None:
        pattern = re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]*")
        _RUN_PATTERNS[chars] = pattern
    return pattern


_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


def is_token(text: str) -> bool:
    return _TOKEN_RE.fullmatch(text) is not None


def is_host(text: str) -> bool:
    if text.startswith("["):
        return bool(_IPV6.match(text)) and text.count(":") >= 2
    return bool(_HOSTNAME.match(text))


def parse_port(text: str, where: str) -> int:
    if not (1 <= len(text) <= 5) or not text.isascii() or not text.isdigit():
        raise SipParseError(f"bad port {text!r}", header=where)
    port = int(text)
    if port > 65535:
        raise SipParseError(f"port {port} out of range", header=where)
    return port


def check_escapes(text: str, allowed: frozenset[str], what: str, where: str | None) -> None:
    """Every character is in ``allowed`` or part of a ``%HH`` escape."""
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "%":
            if i + 2 >= n:
                raise SipParseError(f"truncated escape in {what}", header=where)
            if text[i + 1] not in HEX or text[i + 2] not in HEX:
                raise SipParseError(f"bad escape in {what}", header=where)
            i += 3
            continue
        if c not in allowed:
            raise SipParseError(f"character {c!r} not allowed in {what}", header=where)
        i += 1


def unescape(text: str) -> str:
    """Decode ``%HH`` escapes (UTF-8, invalid sequences kept as surrogates)."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    n = len(raw)
    while i < n:
        b = raw[i]
        if b == 0x25 and i + 2 < n and chr(raw[i + 1]) in HEX and chr(raw[i + 2]) in HEX:
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(b)
            i += 1
    return out.decode("utf-8", "surrogateescape")


def quote(text: str) -> str:
    """A quoted-string with ``\\`` and ``"`` escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote(text: str) -> str:
    """Strip the quotes of a quoted-string and resolve quoted-pairs."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        out = []
        i = 0
        while i < len(inner):
            if inner[i] == "\\" and i + 1 < len(inner):
                out.append(inner[i + 1])
                i += 2
            else:
                out.append(inner[i])
                i += 1
        return "".join(out)
    return text


def split_list(value: str, where: str) -> list[str]:
    """Split a header field value at commas outside quotes and ``<...>``.

    Empty elements are an error (RFC 3261 §7.3.1 does not allow them).
    """
    if '"' not in value and "<" not in value:
        simple = [p.strip(WS) for p in value.split(",")]
        if not all(simple):
            raise SipParseError("empty element in list", header=where)
        return simple
    parts: list[str] = []
    buf: list[str] = []
    in_quotes = False
    in_angle = False
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        if in_quotes:
            buf.append(c)
            if c == "\\" and i + 1 < n:
                buf.append(value[i + 1])
                i += 1
            elif c == '"':
                in_quotes = False
        elif c == '"':
            in_quotes = True
            buf.append(c)
        elif c == "<":
            in_angle = True
            buf.append(c)
        elif c == ">":
            in_angle = False
            buf.append(c)
        elif c == "," and not in_angle:
            parts.append("".join(buf).strip(WS))
            buf = []
        else:
            buf.append(c)
        i += 1
    if in_quotes:
        raise SipParseError("unterminated quoted string", header=where)
    parts.append("".join(buf).strip(WS))
    if any(not p for p in parts):
        raise SipParseError("empty element in list", header=where)
    return parts


class Scanner:
    """A cursor over one header value."""

    __slots__ = ("pos", "text", "where")

    def __init__(self, text: str, where: str | None) -> None:
        self.text = text
        self.pos = 0
        self.where = where

    def fail(self, message: str) -> SipParseError:
        return SipParseError(message, header=self.where)

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> bool:
        if self.pos >= len(self.text) or self.text[self.pos] not in WS:
            return False
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in WS:
            self.pos += 1
        return self.pos > start

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r} at offset {self.pos}")
        self.pos += 1

    def take_while(self, chars: frozenset[str]) -> str:
        match = _run_pattern(chars).match(self.text, self.pos)
        assert match is not None  # "*" always matches
        self.pos = match.end()
        return match.group()

    def take_token(self, what: str = "token") -> str:
        token = self.take_while(TOKEN_CHARS)
        if not token:
            raise self.fail(f"expected {what} at offset {self.pos}")
        return token

    def take_quoted(self) -> str:
        """A quoted-string, returned with its quotes and escapes as on the wire."""
        start = self.pos
        self.expect('"')
        while True:
            if self.pos >= len(self.text):
                raise self.fail("unterminated quoted string")
            c = self.text[self.pos]
            if c == "\\":
                if self.pos + 1 >= len(self.text):
                    raise self.fail("unterminated quoted string")
                self.pos += 2
                continue
            self.pos += 1
            if c == '"':
                return self.text[start : self.pos]

    def take_params(self) -> tuple[tuple[str, str | None], ...]:
        """``*( SEMI generic-param )`` to the end of the value."""
        params: list[tuple[str, str | None]] = []
        while True:
            self.skip_ws()
            if self.at_end():
                return tuple(params)
            self.expect(";")
            self.skip_ws()
            name = self.take_token("parameter name")
            self.skip_ws()
            value: str | None = None
            if self.peek() == "=":
                self.pos += 1
                self.skip_ws()
                if self.peek() == '"':
                    value = self.take_quoted()
                else:
                    value = self.take_while(GEN_VALUE_CHARS)
                    if not value:
                        raise self.fail(f"empty value for parameter {name!r}")
            params.append((name, value))


def param_lookup(params: tuple[tuple[str, str | None], ...], name: str) -> str | None:
    lname = name.lower()
    for key, value in params:
        if key.lower() == lname:
            return "" if value is None else value
    return None


def has_param(params: tuple[tuple[str, str | None], ...], name: str) -> bool:
    lname = name.lower()
    return any(key.lower() == lname for key, _ in params)


def format_params(params: tuple[tuple[str, str | None], ...]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params)
