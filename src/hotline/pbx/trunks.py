"""Registration of the PBX to a carrier trunk (``Trunk.register``).

One REGISTER every ``0.8 × expires`` (the carrier's answer decides the
expiry), answered challenges with the trunk's credentials (one retry per
challenge), back-off of 30 s after a failure.  State is readable for the
status page (``registered``, ``last_status``).
"""

from __future__ import annotations

import asyncio
import logging
import random

from hotline.sip.digest import authorization, choose_challenge
from hotline.sip.headers import Address, Headers
from hotline.sip.message import Request, Response
from hotline.sip.uri import SipUri

from hotline.pbx.directory import Trunk
from hotline.pbx.transport import SipChannel

__all__ = ["TrunkRegistration"]

log = logging.getLogger(__name__)
_rng = random.SystemRandom()
RETRY_SECONDS = 30.0


class TrunkRegistration:
    def __init__(self, trunk: Trunk, channel: SipChannel) -> None:
        self.trunk = trunk
        self.channel = channel
        self.registered = False
        self.last_status = 0
        self.expires = trunk.register_expires
        self._call_id = channel.endpoint.new_call_id()
        self._tag = channel.endpoint.new_tag()
        self._cseq = 0
        self._stopped = False
        self._wake = asyncio.Event()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def _build(self, auth: tuple[str, str] | None) -> Request:
        trunk = self.trunk
        ep = self.channel.endpoint
        self._cseq += 1
        user = trunk.username or "hotline"
        aor = Address(SipUri(host=trunk.host, user=user))
        contact = Address(SipUri(host=ep.local_host, user=user, port=ep.local_port))
        items = [
            ("Via", str(ep.via())), ("Max-Forwards", "70"), ("From", str(aor.with_tag(self._tag))), ("To", str(aor)),
            ("Call-ID", self._call_id), ("CSeq", f"{self._cseq} REGISTER"), ("Contact", str(contact)),
            ("Expires", str(trunk.register_expires)),
        ]
        if auth is not None:
            items.append(auth)
        return Request.build("REGISTER", SipUri(host=trunk.host, port=trunk.port), Headers(items))

    async def _send(self, request: Request) -> Response | None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Response | None] = loop.create_future()

        def on_response(response: Response | None) -> None:
            if not done.done() and (response is None or response.status >= 200):
                done.set_result(response)

        self.channel.request(request, (self.trunk.host, self.trunk.port), on_response)
        return await done

    async def register_once(self) -> bool:
        trunk = self.trunk
        response = await self._send(self._build(None))
        if response is not None and response.status in (401, 407) and trunk.username:
            header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
            challenge = choose_challenge(response.headers.get_all(header))
            if challenge is not None:
                uri = str(SipUri(host=trunk.host, port=trunk.port))
                value = authorization(challenge, method="REGISTER", uri=uri, username=trunk.username,
                                      password=trunk.password, cnonce=f"{_rng.getrandbits(64):016x}")
                name = "Authorization" if response.status == 401 else "Proxy-Authorization"
                response = await self._send(self._build((name, value)))
        self.last_status = response.status if response is not None else 408
        self.registered = response is not None and 200 <= response.status < 300
        if self.registered and response is not None:
            expires = response.headers.get("Expires")
            if expires is not None and expires.isdigit() and int(expires) > 0:
                self.expires = int(expires)
        return self.registered

    async def run(self) -> None:
        while not self._stopped:
            try:
                ok = await self.register_once()
            except Exception:
                log.exception("trunk %s: REGISTER failed", self.trunk.name)
                ok = False
            delay = max(5.0, 0.8 * self.expires) if ok else RETRY_SECONDS
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except asyncio.TimeoutError:
                pass
