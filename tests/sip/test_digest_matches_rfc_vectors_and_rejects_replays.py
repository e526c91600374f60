"""Digest authentication: RFC 2617 / RFC 7616 (MD5, SHA-256 as RFC 8760 uses
them for SIP) vectors, the server's stateless nonces, expiry and replay
protection with a bounded table."""

from __future__ import annotations

import random

import pytest

from hotline.sip.digest import (
    Authenticated,
    Challenge,
    DigestServer,
    authorization,
    choose_challenge,
    compute_response,
    hash_a1,
    parse_challenge,
    parse_credentials,
)
from hotline.sip.errors import SipParseError
from hotline.sip.headers import Headers
from hotline.sip.message import Request, parse_message
from hotline.sip.uri import parse_uri

SECRET = b"0123456789abcdef0123456789abcdef"
PASSWORDS = {"8001": "滨江-12345"}


def lookup(user: str, realm: str) -> str | None:
    return PASSWORDS.get(user)


def register(auth: str | None = None, header: str = "Authorization") -> Request:
    items = [
        ("Via", "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK776asdhds"),
        ("To", "<sip:8001@binjiang.example>"),
        ("From", "<sip:8001@binjiang.example>;tag=1928301774"),
        ("Call-ID", "a84b4c76e66710@192.0.2.7"),
        ("CSeq", "2 REGISTER"),
        ("Max-Forwards", "70"),
    ]
    if auth is not None:
        items.append((header, auth))
    return Request.build("REGISTER", parse_uri("sip:binjiang.example"), Headers(items))


def test_rfc2617_md5_vector() -> None:
    """RFC 2617 §3.5."""
    assert compute_response(
        algorithm="MD5", username="Mufasa", realm="testrealm@host.com", password="Circle Of Life",
        method="GET", uri="/dir/index.html", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        qop="auth", nc="00000001", cnonce="0a4f113b",
    ) == "6629fae49393a05397450978507c4ef1"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_vectors(algorithm: str, expected: str) -> None:
    """RFC 7616 §3.9.1 (the SHA-256 case is the algorithm RFC 8760 adds to SIP)."""
    kwargs = dict(
        username="Mufasa", realm="http-auth@example.org", method="GET", uri="/dir/index.html",
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", qop="auth", nc="00000001",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert compute_response(algorithm=algorithm, password="Circle of Life", **kwargs) == expected  # type: ignore[arg-type]
    ha1 = hash_a1(algorithm, "Mufasa", "http-auth@example.org", "Circle of Life")
    assert compute_response(algorithm=algorithm, ha1=ha1, **kwargs) == expected  # type: ignore[arg-type]


def test_credentials_and_challenges_parse() -> None:
    creds = parse_credentials(
        'Digest username="bob", realm="biloxi.com", nonce="dcd98b", uri="sip:bob@biloxi.com", '
        'qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae4", opaque="5ccc069c"'
    )
    assert creds is not None and creds.username == "bob" and creds.nc == "00000001" and creds.opaque == "5ccc069c"
    assert parse_credentials("NoOneKnowsThisScheme opaque-data=here") is None
    for bad in ['Digest username="bob"', 'Digest username="bob", username="eve"', "Digest realm=", 'Digest x="unterminated']:
        with pytest.raises(SipParseError):
            parse_credentials(bad)
    challenge = parse_challenge('Digest realm="atlanta.com", nonce="84a4cc6f", qop="auth,auth-int", algorithm=SHA-256, stale=TRUE')
    assert challenge.qop == ("auth", "auth-int") and challenge.algorithm == "SHA-256" and challenge.stale


def test_client_prefers_sha256_and_server_accepts_both() -> None:
    server = DigestServer(realm="binjiang.example", secret=SECRET, rng=random.Random(1))
    first = server.check(register(), lookup=lookup, now=100.0)
    assert isinstance(first, Challenge) and first.status == 401 and len(first.values) == 2
    chosen = choose_challenge(list(reversed(first.values)))
    assert chosen is not None and chosen.algorithm == "SHA-256"
    # Both challenges carry the same nonce, so the second answer must count on (nc=2).
    for nc, value in enumerate(first.values, start=1):
        challenge = parse_challenge(value)
        auth = authorization(challenge, method="REGISTER", uri="sip:binjiang.example", username="8001",
                             password="滨江-12345", cnonce="abc" + challenge.algorithm, nc=nc)
        assert server.check(register(auth), lookup=lookup, now=101.0) == Authenticated("8001", "binjiang.example")


def answer(server: DigestServer, now: float, *, nc: int = 1, password: str = "滨江-12345", user: str = "8001") -> str:
    challenge = choose_challenge(list(server.challenge(now).values))
    assert challenge is not None
    return authorization(challenge, method="REGISTER", uri="sip:binjiang.example", username=user,
                         password=password, cnonce="c1", nc=nc)


def test_wrong_password_unknown_user_and_foreign_nonce_are_challenged() -> None:
    server = DigestServer(realm="binjiang.example", secret=SECRET)
    for auth in (answer(server, 0.0, password="wrong"), answer(server, 0.0, user="9999")):
        outcome = server.check(register(auth), lookup=lookup, now=1.0)
        assert isinstance(outcome, Challenge) and outcome.reason == "wrong credentials"
    other = DigestServer(realm="binjiang.example", secret=b"another-secret-of-32-bytes-long!")
    outcome = server.check(register(answer(other, 0.0)), lookup=lookup, now=1.0)
    assert isinstance(outcome, Challenge) and outcome.reason == "not our nonce" and "stale" not in outcome.values[0]


def test_nonce_expires_with_stale_true() -> None:
    server = DigestServer(realm="binjiang.example", secret=SECRET, nonce_ttl=30.0)
    auth = answer(server, 0.0)
    assert isinstance(server.check(register(auth), lookup=lookup, now=30.0), Authenticated)
    late = server.check(register(answer(server, 0.0, nc=1)), lookup=lookup, now=30.5)
    assert isinstance(late, Challenge) and late.reason == "nonce expired" and "stale=TRUE" in late.values[0]


def test_replayed_nonce_count_is_refused_and_growing_counts_pass() -> None:
    server = DigestServer(realm="binjiang.example", secret=SECRET)
    challenge = choose_challenge(list(server.challenge(0.0).values))
    assert challenge is not None

    def with_nc(nc: int) -> Request:
        return register(authorization(challenge, method="REGISTER", uri="sip:binjiang.example", username="8001",
                                      password="滨江-12345", cnonce="c1", nc=nc))

    assert isinstance(server.check(with_nc(1), lookup=lookup, now=1.0), Authenticated)
    replay = server.check(with_nc(1), lookup=lookup, now=2.0)
    assert isinstance(replay, Challenge) and replay.reason == "replayed nonce count"
    assert isinstance(server.check(with_nc(2), lookup=lookup, now=3.0), Authenticated)
    assert isinstance(server.check(with_nc(2), lookup=lookup, now=4.0), Challenge)


def test_tracking_table_is_bounded_and_evicted_nonces_are_not_trusted() -> None:
    server = DigestServer(realm="binjiang.example", secret=SECRET, max_tracked=3)
    auths = [answer(server, float(t)) for t in range(5)]
    for auth in auths:
        assert isinstance(server.check(register(auth), lookup=lookup, now=10.0), Authenticated)
    assert server.tracked == 3
    # The first nonces fell out of the table: a replay is refused, not re-accepted.
    replay = server.check(register(auths[0]), lookup=lookup, now=11.0)
    assert isinstance(replay, Challenge) and "stale=TRUE" in replay.values[0]
    # A fresh nonce issued after the evictions still works.
    assert isinstance(server.check(register(answer(server, 10.0)), lookup=lookup, now=11.0), Authenticated)


def test_uri_mismatch_and_proxy_authorization() -> None:
    server = DigestServer(realm="binjiang.example", secret=SECRET)
    challenge = choose_challenge(list(server.challenge(0.0, proxy=True).values))
    assert challenge is not None
    auth = authorization(challenge, method="REGISTER", uri="sip:elsewhere.example", username="8001",
                         password="滨江-12345", cnonce="c")
    outcome = server.check(register(auth, "Proxy-Authorization"), lookup=lookup, now=1.0, proxy=True)
    assert isinstance(outcome, Challenge) and outcome.status == 407 and outcome.header_name == "Proxy-Authenticate"
    good = authorization(challenge, method="REGISTER", uri="sip:binjiang.example", username="8001",
                         password="滨江-12345", cnonce="c")
    assert isinstance(server.check(register(good, "Proxy-Authorization"), lookup=lookup, now=1.0, proxy=True), Authenticated)


def test_authorization_survives_the_wire() -> None:
    server = DigestServer(realm="binjiang.example", secret=SECRET)
    request = parse_message(register(answer(server, 0.0)).serialize())
    assert isinstance(request, Request)
    assert isinstance(server.check(request, lookup=lookup, now=1.0), Authenticated)


def test_server_checks_against_stored_ha1_without_the_password() -> None:
    from hotline.sip.digest import hash_a1
    from hotline.sip.errors import SipLocalError

    stored = {alg: hash_a1(alg, "8001", "binjiang.example", "滨江-12345") for alg in ("MD5", "SHA-256")}
    seen: list[tuple[str, str, str]] = []

    def lookup_ha1(user: str, realm: str, algorithm: str) -> str | None:
        seen.append((user, realm, algorithm))
        return stored.get(algorithm) if user == "8001" else None

    server = DigestServer(realm="binjiang.example", secret=SECRET)
    first = server.check(register(), lookup_ha1=lookup_ha1, now=1.0)
    assert isinstance(first, Challenge)
    for nc, value in enumerate(first.values, start=1):
        challenge = parse_challenge(value)
        auth = authorization(challenge, method="REGISTER", uri="sip:binjiang.example", username="8001",
                             password="滨江-12345", cnonce="c", nc=nc)
        assert server.check(register(auth), lookup_ha1=lookup_ha1, now=2.0) == Authenticated("8001", "binjiang.example")
    assert {s[2] for s in seen} == {"MD5", "SHA-256"}
    bad = server.check(register(answer(server, 3.0, password="wrong")), lookup_ha1=lookup_ha1, now=4.0)
    assert isinstance(bad, Challenge) and bad.reason == "wrong credentials"
    unknown = server.check(register(answer(server, 3.0, user="9999")), lookup_ha1=lookup_ha1, now=4.0)
    assert isinstance(unknown, Challenge) and unknown.reason == "wrong credentials"
    with pytest.raises(SipLocalError):
        server.check(register(), now=1.0)
