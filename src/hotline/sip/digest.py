"""HTTP Digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760).

Server side: :class:`DigestServer` issues stateless nonces (a timestamp, a
random part and an HMAC-SHA-256 over both with a server secret the caller
passes in), checks their age, verifies credentials for MD5 and SHA-256 with
``qop=auth`` (or no qop, RFC 2069 style), and protects against replay by
tracking the highest nonce-count per nonce in a bounded LRU table; nonces
that fell out of the table are answered ``stale=true`` instead of being
trusted again (a watermark on the timestamp of evicted nonces).

Client side: :func:`parse_challenge`, :func:`choose_challenge` (SHA-256
before MD5, RFC 8760 §2.4) and :func:`authorization` build the
``Authorization`` / ``Proxy-Authorization`` value.

Pure: time is the ``now`` argument, randomness an injectable ``random.Random``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, Union

from hotline.sip.errors import SipLocalError, SipParseError
from hotline.sip.grammar import GEN_VALUE_CHARS, TOKEN_CHARS, Scanner, quote, unquote
from hotline.sip.message import Request

__all__ = [
    "ALGORITHMS",
    "Authenticated",
    "Challenge",
    "DigestChallenge",
    "DigestCredentials",
    "DigestServer",
    "authorization",
    "choose_challenge",
    "compute_response",
    "hash_a1",
    "parse_auth_params",
    "parse_challenge",
    "parse_credentials",
]

Algorithm = Literal["MD5", "MD5-sess", "SHA-256", "SHA-256-sess"]
ALGORITHMS: Final[dict[str, Callable[[bytes], str]]] = {
    "MD5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
}
_PREFERENCE: Final = ("SHA-256", "SHA-256-sess", "MD5", "MD5-sess")


def _hash(algorithm: str, text: str) -> str:
    base = algorithm[:-5] if algorithm.endswith("-sess") else algorithm
    func = ALGORITHMS.get(base.upper())
    if func is None:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    return func(text.encode("utf-8"))


def _canonical_algorithm(name: str) -> str | None:
    for known in _PREFERENCE:
        if known.lower() == name.lower():
            return known
    return None


def hash_a1(algorithm: str, username: str, realm: str, password: str) -> str:
    """H(username:realm:password) — what a registrar may store instead of the password."""
    return _hash(algorithm, f"{username}:{realm}:{password}")


def compute_response(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str | None = None,
    ha1: str | None = None,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """The ``response`` value of RFC 7616 §3.4.1 (RFC 2617 §3.2.2 for MD5).

    Give the ``password`` or the stored ``ha1``.  ``qop`` is ``"auth"``,
    ``"auth-int"`` or None (RFC 2069 compatibility).
    """
    if ha1 is None:
        if password is None:
            raise ValueError("password or ha1 required")
        ha1 = hash_a1(algorithm, username, realm, password)
    if algorithm.lower().endswith("-sess"):
        ha1 = _hash(algorithm, f"{ha1}:{nonce}:{cnonce or ''}")
    if qop == "auth-int":
        base = algorithm[:-5] if algorithm.lower().endswith("-sess") else algorithm
        ha2 = _hash(algorithm, f"{method}:{uri}:{ALGORITHMS[base.upper()](body)}")
    else:
        ha2 = _hash(algorithm, f"{method}:{uri}")
    if qop:
        return _hash(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _hash(algorithm, f"{ha1}:{nonce}:{ha2}")


def parse_auth_params(value: str, where: str) -> tuple[str, dict[str, str]]:
    """``scheme LWS auth-param *(COMMA auth-param)`` -> (scheme, {name: unquoted value}).

    Parameter names are lower-cased; a repeated parameter is an error.
    """
    s = Scanner(value, where)
    s.skip_ws()
    scheme = s.take_token("auth scheme")
    params: dict[str, str] = {}
    if s.at_end():
        return scheme, params
    if not s.skip_ws():
        raise s.fail("expected whitespace after the scheme")
    while True:
        s.skip_ws()
        name = s.take_token("parameter name").lower()
        s.skip_ws()
        s.expect("=")
        s.skip_ws()
        if s.peek() == '"':
            raw = unquote(s.take_quoted())
        else:
            raw = s.take_while(GEN_VALUE_CHARS | frozenset("/"))
            if not raw:
                raise s.fail(f"empty value for {name!r}")
        if name in params:
            raise s.fail(f"parameter {name!r} repeated")
        params[name] = raw
        s.skip_ws()
        if s.at_end():
            return scheme, params
        s.expect(",")


@dataclass(frozen=True)
class DigestChallenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ("auth",)
    opaque: str | None = None
    stale: bool = False

    def header_value(self) -> str:
        parts = [f"realm={quote(self.realm)}", f"nonce={quote(self.nonce)}", f"algorithm={self.algorithm}"]
        if self.qop:
            parts.append(f"qop={quote(','.join(self.qop))}")
        if self.opaque is not None:
            parts.append(f"opaque={quote(self.opaque)}")
        if self.stale:
            parts.append("stale=TRUE")
        return "Digest " + ", ".join(parts)


@dataclass(frozen=True)
class DigestCredentials:
    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None

    def header_value(self) -> str:
        parts = [
            f"username={quote(self.username)}", f"realm={quote(self.realm)}", f"nonce={quote(self.nonce)}",
            f"uri={quote(self.uri)}", f"response={quote(self.response)}", f"algorithm={self.algorithm}",
        ]
        if self.qop:
            parts += [f"qop={self.qop}", f"nc={self.nc}", f"cnonce={quote(self.cnonce or '')}"]
        if self.opaque is not None:
            parts.append(f"opaque={quote(self.opaque)}")
        return "Digest " + ", ".join(parts)


def parse_challenge(value: str) -> DigestChallenge:
    scheme, p = parse_auth_params(value, "WWW-Authenticate")
    if scheme.lower() != "digest":
        raise SipParseError(f"scheme {scheme!r} is not Digest", header="WWW-Authenticate")
    if "realm" not in p or "nonce" not in p:
        raise SipParseError("realm and nonce are required", header="WWW-Authenticate")
    algorithm = _canonical_algorithm(p.get("algorithm", "MD5")) or p.get("algorithm", "MD5")
    qop = tuple(q.strip() for q in p["qop"].split(",") if q.strip()) if "qop" in p else ()
    return DigestChallenge(p["realm"], p["nonce"], algorithm, qop, p.get("opaque"), p.get("stale", "").lower() == "true")


def parse_credentials(value: str, where: str = "Authorization") -> DigestCredentials | None:
    """Digest credentials, or None for another scheme (RFC 4475 §3.3.7)."""
    scheme, p = parse_auth_params(value, where)
    if scheme.lower() != "digest":
        return None
    for name in ("username", "realm", "nonce", "uri", "response"):
        if name not in p:
            raise SipParseError(f"{name} missing", header=where)
    qop = p.get("qop")
    if qop is not None and ("nc" not in p or "cnonce" not in p):
        raise SipParseError("qop requires nc and cnonce", header=where)
    return DigestCredentials(
        p["username"], p["realm"], p["nonce"], p["uri"], p["response"],
        _canonical_algorithm(p.get("algorithm", "MD5")) or p.get("algorithm", "MD5"),
        qop, p.get("nc"), p.get("cnonce"), p.get("opaque"),
    )


def choose_challenge(values: list[str]) -> DigestChallenge | None:
    """The challenge to answer: the strongest supported algorithm offering qop=auth or no qop."""
    usable: list[DigestChallenge] = []
    for value in values:
        try:
            challenge = parse_challenge(value)
        except SipParseError:
            continue
        if challenge.algorithm in _PREFERENCE and (not challenge.qop or "auth" in challenge.qop):
            usable.append(challenge)
    usable.sort(key=lambda c: _PREFERENCE.index(c.algorithm))
    return usable[0] if usable else None


def authorization(
    challenge: DigestChallenge, *, method: str, uri: str, username: str, password: str, cnonce: str, nc: int = 1
) -> str:
    """The Authorization header value answering ``challenge``."""
    qop = "auth" if "auth" in challenge.qop else None
    nc_text = f"{nc:08x}" if qop else None
    response = compute_response(
        algorithm=challenge.algorithm, username=username, realm=challenge.realm, password=password,
        method=method, uri=uri, nonce=challenge.nonce, qop=qop, nc=nc_text, cnonce=cnonce if qop else None,
    )
    creds = DigestCredentials(
        username, challenge.realm, challenge.nonce, uri, response, challenge.algorithm,
        qop, nc_text, cnonce if qop else None, challenge.opaque,
    )
    return creds.header_value()


# server -----------------------------------------------------------------------


@dataclass(frozen=True)
class Authenticated:
    username: str
    realm: str


@dataclass(frozen=True)
class Challenge:
    """Answer the request with ``status`` and one ``header_name`` line per value."""

    status: int
    header_name: str
    values: tuple[str, ...]
    reason: str


Outcome = Union[Authenticated, Challenge]
_NONCE_RAW: Final = 8 + 8 + 16


class DigestServer:
    """Stateless nonces, credential checks and replay protection for one realm.

    ``lookup(username, realm)`` returns the password, or None for an unknown
    user (answered exactly like a wrong password).
    """

    def __init__(
        self,
        *,
        realm: str,
        secret: bytes,
        nonce_ttl: float = 300.0,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
        max_tracked: int = 10_000,
        rng: random.Random | None = None,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("secret must be at least 16 bytes")
        for algorithm in algorithms:
            if _canonical_algorithm(algorithm) is None:
                raise ValueError(f"unsupported algorithm {algorithm!r}")
        self.realm = realm
        self._secret = secret
        self.nonce_ttl = nonce_ttl
        self.algorithms = algorithms
        self.max_tracked = max_tracked
        self._rng = rng or random.SystemRandom()
        self._nc: OrderedDict[str, int] = OrderedDict()
        self._watermark = float("-inf")

    # nonces ---------------------------------------------------------------
    def make_nonce(self, now: float) -> str:
        head = struct.pack(">d", now) + self._rng.getrandbits(64).to_bytes(8, "big")
        mac = hmac.new(self._secret, head, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(head + mac).decode("ascii").rstrip("=")

    def nonce_time(self, nonce: str) -> float | None:
        """Issue time of one of our nonces, or None when forged or malformed."""
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) != _NONCE_RAW:
            return None
        head, mac = raw[:16], raw[16:]
        if not hmac.compare_digest(mac, hmac.new(self._secret, head, hashlib.sha256).digest()[:16]):
            return None
        issued: float = struct.unpack(">d", head[:8])[0]
        return issued

    def challenge(self, now: float, *, proxy: bool = False, stale: bool = False, reason: str = "") -> Challenge:
        nonce = self.make_nonce(now)
        values = tuple(DigestChallenge(self.realm, nonce, a, ("auth",), None, stale).header_value() for a in self.algorithms)
        if proxy:
            return Challenge(407, "Proxy-Authenticate", values, reason)
        return Challenge(401, "WWW-Authenticate", values, reason)

    # checking -------------------------------------------------------------
    def check(
        self,
        request: Request,
        *,
        lookup: Callable[[str, str], str | None] | None = None,
        now: float,
        proxy: bool = False,
        lookup_ha1: Callable[[str, str, str], str | None] | None = None,
    ) -> Outcome:
        """Check the request's credentials.

        Give ``lookup(username, realm) -> password`` or, for a registrar that
        stores no passwords, ``lookup_ha1(username, realm, algorithm) -> HA1``
        (H(username:realm:password) with the algorithm's hash; None = unknown).
        """
        if (lookup is None) == (lookup_ha1 is None):
            raise SipLocalError("give exactly one of lookup and lookup_ha1")
        header = "Proxy-Authorization" if proxy else "Authorization"
        creds: DigestCredentials | None = None
        for value in request.headers.get_all(header):
            try:
                parsed = parse_credentials(value, header)
            except SipParseError:
                return self.challenge(now, proxy=proxy, reason="malformed credentials")
            if parsed is not None and parsed.realm == self.realm:
                creds = parsed
                break
        if creds is None:
            return self.challenge(now, proxy=proxy, reason="no credentials for this realm")
        if creds.algorithm not in self.algorithms:
            return self.challenge(now, proxy=proxy, reason="algorithm not offered")
        if creds.qop not in (None, "auth"):
            return self.challenge(now, proxy=proxy, reason="qop not offered")
        if creds.uri != str(request.uri):
            return self.challenge(now, proxy=proxy, reason="uri does not match the Request-URI")
        issued = self.nonce_time(creds.nonce)
        if issued is None or issued > now + 1.0:
            return self.challenge(now, proxy=proxy, reason="not our nonce")
        if now - issued > self.nonce_ttl:
            return self.challenge(now, proxy=proxy, stale=True, reason="nonce expired")
        password: str | None = None
        ha1: str | None = None
        if lookup is not None:
            password = lookup(creds.username, creds.realm)
        elif lookup_ha1 is not None:
            base = creds.algorithm[:-5] if creds.algorithm.endswith("-sess") else creds.algorithm
            ha1 = lookup_ha1(creds.username, creds.realm, base)
        if password is None and ha1 is None:
            return self.challenge(now, proxy=proxy, reason="wrong credentials")
        expected = compute_response(
            algorithm=creds.algorithm, username=creds.username, realm=creds.realm, password=password, ha1=ha1,
            method=request.method, uri=creds.uri, nonce=creds.nonce, qop=creds.qop, nc=creds.nc, cnonce=creds.cnonce,
        )
        if not hmac.compare_digest(expected.lower(), creds.response.lower()):
            return self.challenge(now, proxy=proxy, reason="wrong credentials")
        count = 1
        if creds.qop is not None:
            try:
                count = int(creds.nc or "", 16)
            except ValueError:
                return self.challenge(now, proxy=proxy, reason="bad nc")
        if not self._accept_count(creds.nonce, issued, count):
            return self.challenge(now, proxy=proxy, stale=True, reason="replayed nonce count")
        return Authenticated(creds.username, creds.realm)

    def _accept_count(self, nonce: str, issued: float, count: int) -> bool:
        """nc must grow for each use of a nonce (a nonce without qop is single-use)."""
        last = self._nc.get(nonce)
        if last is None:
            if issued <= self._watermark:
                return False  # its history was evicted: cannot prove it is fresh
        elif count <= last:
            return False
        self._nc[nonce] = count
        self._nc.move_to_end(nonce)
        while len(self._nc) > self.max_tracked:
            evicted, _ = self._nc.popitem(last=False)
            evicted_time = self.nonce_time(evicted)
            if evicted_time is not None:
                self._watermark = max(self._watermark, evicted_time)
        return True

    @property
    def tracked(self) -> int:
        return len(self._nc)
