"""Registrar (RFC 3261 §10) and digest authentication against the directory.

* :class:`Authenticator` checks ``Authorization`` (or ``Proxy-Authorization``)
  with :class:`hotline.sip.digest.DigestServer` against the HA1 values of the
  directory's :class:`~hotline.pbx.directory.SipAccount` (no passwords in the
  engine); each failed check is reported to :class:`Protection`, which bans a
  source after ``ban_after_failures``.
* :class:`Registrar` keeps bindings in memory (phones re-register after a
  restart): several devices per account up to ``max_bindings`` (the oldest
  binding gives way), expiry clamped to ``max_expires``, ``423 Interval Too
  Brief`` below ``min_expires``, ``Contact: *`` with ``Expires: 0`` removes
  all.  Requests to a binding go to the address the REGISTER came from
  (``received``/``rport``: phones behind NAT) over the same transport.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hotline.sip.digest import Authenticated, DigestServer, parse_credentials
from hotline.sip.errors import SipParseError
from hotline.sip.headers import Address
from hotline.sip.message import Request
from hotline.sip.uri import SipUri

from hotline.pbx.directory import PbxDirectory, SipAccount
from hotline.pbx.protection import Protection

if TYPE_CHECKING:
    from hotline.pbx.transport import SipChannel

__all__ = ["Authenticator", "Binding", "Registrar"]

log = logging.getLogger(__name__)


@dataclass
class Binding:
    aor: str  # the extension (digest username)
    contact: Address
    source: tuple[str, int]
    channel: SipChannel
    expires_at: float
    call_id: str
    cseq: int
    registered_at: float

    @property
    def uri(self) -> str:
        return str(self.contact.uri)


class Authenticator:
    def __init__(self, digest: DigestServer, directory: PbxDirectory, protection: Protection) -> None:
        self.digest = digest
        self.directory = directory
        self.protection = protection
        self.failures = 0
        self.directory_errors = 0

    async def check(self, request: Request, source: tuple[str, int], now: float, *, proxy: bool = False
                    ) -> tuple[SipAccount | None, tuple[int, str, tuple[str, ...]] | None]:
        """(account, None) when authenticated, else (None, (status, header name, values))."""
        header = "Proxy-Authorization" if proxy else "Authorization"
        username = None
        for value in request.headers.get_all(header):
            try:
                creds = parse_credentials(value, header)
            except SipParseError:
                continue
            if creds is not None and creds.realm == self.digest.realm:
                username = creds.username
                break
        account: SipAccount | None = None
        if username is not None:
            try:
                account = await self.directory.account(username)
            except Exception:
                self.directory_errors += 1
                log.exception("directory.account(%r) failed", username)
                return None, (500, "", ())

        def lookup_ha1(user: str, realm: str, algorithm: str) -> str | None:
            if account is None or user != account.username:
                return None
            return account.ha1.get(algorithm)

        outcome = self.digest.check(request, lookup_ha1=lookup_ha1, now=now, proxy=proxy)
        if isinstance(outcome, Authenticated) and account is not None:
            self.protection.auth_succeeded(source[0])
            return account, None
        assert not isinstance(outcome, Authenticated)
        if outcome.reason == "wrong credentials":
            self.failures += 1
            if self.protection.auth_failed(source[0]):
                log.warning("banning %s after repeated failed authentication", source[0])
                return None, (403, "", ())
        return None, (outcome.status, outcome.header_name, outcome.values)


class Registrar:
    def __init__(self, *, min_expires: int, max_expires: int, default_expires: int = 3600) -> None:
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = min(max(default_expires, min_expires), max_expires)
        self.bindings: dict[str, list[Binding]] = {}

    def lookup(self, aor: str, now: float) -> list[Binding]:
        found = [b for b in self.bindings.get(aor, ()) if b.expires_at > now]
        if not found:
            self.bindings.pop(aor, None)
        return found

    def sweep(self, now: float) -> int:
        removed = 0
        for aor in list(self.bindings):
            alive = [b for b in self.bindings[aor] if b.expires_at > now]
            removed += len(self.bindings[aor]) - len(alive)
            if alive:
                self.bindings[aor] = alive
            else:
                del self.bindings[aor]
        return removed

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.bindings.values())

    def register(self, request: Request, account: SipAccount, source: tuple[str, int], channel: SipChannel,
                 now: float) -> tuple[int, tuple[tuple[str, str], ...]]:
        """Apply an authenticated REGISTER; returns (status, extra headers)."""
        to_uri = request.to_addr().uri
        if not isinstance(to_uri, SipUri) or (to_uri.user or "") != account.username:
            return 403, (("Warning", '399 hotline "To must be the authenticated extension"'),)
        expires_header = request.headers.get("Expires")
        try:
            header_expires = int(expires_header) if expires_header is not None else None
        except ValueError:
            return 400, (("Warning", '399 hotline "bad Expires"'),)
        call_id = request.call_id()
        cseq = request.cseq().number
        current = self.lookup(account.username, now)
        if request.contact_is_star():
            if header_expires != 0:
                return 400, (("Warning", '399 hotline "Contact * needs Expires: 0"'),)
            self.bindings.pop(account.username, None)
            return 200, ()
        contacts = request.contacts()
        for contact in contacts:
            expires = self._expires(contact, header_expires)
            if expires is None:
                return 400, (("Warning", '399 hotline "bad expires parameter"'),)
            if 0 < expires < self.min_expires:
                return 423, (("Min-Expires", str(self.min_expires)),)
        for contact in contacts:
            expires = self._expires(contact, header_expires) or 0
            uri = str(contact.uri)
            existing = next((b for b in current if b.uri == uri), None)
            if existing is not None:
                if existing.call_id == call_id and cseq <= existing.cseq:
                    continue  # out of order (§10.3 step 7)
                current.remove(existing)
            if expires > 0:
                current.append(Binding(
                    account.username, Address(contact.uri), _target(contact, source, channel), channel,
                    now + min(expires, self.max_expires), call_id, cseq, now,
                ))
        while len(current) > max(1, account.max_bindings):
            current.sort(key=lambda b: b.registered_at)
            current.pop(0)
        if current:
            self.bindings[account.username] = current
        else:
            self.bindings.pop(account.username, None)
        extra = tuple(("Contact", f"<{b.uri}>;expires={max(0, round(b.expires_at - now))}") for b in current)
        return 200, extra

    def _expires(self, contact: Address, header_expires: int | None) -> int | None:
        value = contact.param("expires")
        if value is not None:
            try:
                return max(0, int(value))
            except ValueError:
                return None
        if header_expires is not None:
            return max(0, header_expires)
        return self.default_expires



def _target(contact: Address, source: tuple[str, int], channel: SipChannel) -> tuple[str, int]:
    """Where requests to this binding go: the Contact's address when it is the
    address the REGISTER came from (a phone not behind NAT, possibly using
    another port for calls), else the source address (NAT: the only way in).
    Over TCP always the connection the REGISTER came on."""
    uri = contact.uri
    if channel.endpoint.reliable or not isinstance(uri, SipUri) or uri.host != source[0]:
        return source
    return (uri.host, uri.port or 5060)
