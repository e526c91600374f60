"""A minimal SIP UDP client for registrar/protection tests (real sockets on
127.0.0.x; built on hotline.sip's message classes, no mocking)."""

from __future__ import annotations

import asyncio
import itertools
import random

from hotline.sip.digest import authorization, choose_challenge
from hotline.sip.headers import Headers
from hotline.sip.message import Request, Response, parse_message
from hotline.sip.uri import parse_uri

_rng = random.Random(7)


class _Proto(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(data)


class SipClient:
    def __init__(self, transport: asyncio.DatagramTransport, proto: _Proto, server: tuple[str, int]) -> None:
        self.transport = transport
        self.proto = proto
        self.server = server
        self.local = transport.get_extra_info("sockname")
        self.call_id = f"{_rng.getrandbits(64):x}@test"
        self.cseq = itertools.count(1)

    @classmethod
    async def open(cls, server: tuple[str, int], host: str = "127.0.0.1") -> SipClient:
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_datagram_endpoint(_Proto, local_addr=(host, 0))
        return cls(transport, proto, server)

    def close(self) -> None:
        self.transport.close()

    def send_raw(self, data: bytes) -> None:
        self.transport.sendto(data, self.server)

    async def recv(self, timeout: float = 2.0) -> Response | None:
        try:
            data = await asyncio.wait_for(self.proto.queue.get(), timeout)
        except asyncio.TimeoutError:
            return None
        message = parse_message(data)
        assert isinstance(message, Response)
        return message

    def request(self, method: str, user: str, *, contact: str | None = None, expires: int | None = None,
                extra: tuple[tuple[str, str], ...] = (), ruri: str | None = None) -> Request:
        host, port = self.local[0], self.local[1]
        items = [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch=z9hG4bK{_rng.getrandbits(64):x};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{user}@hotline>;tag={_rng.getrandbits(32):x}"),
            ("To", f"<sip:{user}@hotline>"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{next(self.cseq)} {method}"),
        ]
        if contact is not None:
            items.append(("Contact", contact))
        if expires is not None:
            items.append(("Expires", str(expires)))
        items += list(extra)
        uri = ruri or f"sip:{self.server[0]}:{self.server[1]}"
        return Request.build(method, parse_uri(uri), Headers(items))

    async def send(self, request: Request, timeout: float = 2.0) -> Response | None:
        """Send and return the final response (provisional ones skipped)."""
        self.send_raw(request.serialize())
        while True:
            response = await self.recv(timeout)
            if response is None or response.status >= 200:
                return response

    async def register(self, user: str, password: str, *, contact: str | None = None, expires: int | None = 300,
                       extra: tuple[tuple[str, str], ...] = ()) -> Response | None:
        """REGISTER, answering one digest challenge."""
        host, port = self.local[0], self.local[1]
        contact = contact if contact is not None else f"<sip:{user}@{host}:{port}>"
        first = await self.send(self.request("REGISTER", user, contact=contact, expires=expires, extra=extra))
        if first is None or first.status != 401:
            return first
        challenge = choose_challenge(first.headers.get_all("WWW-Authenticate"))
        assert challenge is not None
        uri = f"sip:{self.server[0]}:{self.server[1]}"
        auth = authorization(challenge, method="REGISTER", uri=uri, username=user, password=password,
                             cnonce=f"{_rng.getrandbits(32):x}")
        return await self.send(self.request("REGISTER", user, contact=contact, expires=expires,
                                            extra=extra + (("Authorization", auth),)))
