"""A minimal SIP UDP client for registrar/protection tests (real sockets on
127.0.0.x; built on hotline.sip's message classes, no mocking)."""

from __future__ import annotations

import asyncio
import itertools
import random

from hotline.sip.digest import authorization, choose_challenge
from hotline.sip.headers import Headers
from hotline.sip.message import Request, Response, parse_message, response_for
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
        self.requests: list[Request] = []

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
        """The next response; requests from the server (BYE...) are kept in
        ``requests`` and answered 200."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                data = await asyncio.wait_for(self.proto.queue.get(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                return None
            message = parse_message(data)
            if isinstance(message, Response):
                return message
            self.requests.append(message)
            if message.method != "ACK":
                self.send_raw(response_for(message, 200).serialize())

    async def wait_request(self, method: str, timeout: float = 5.0) -> Request | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for r in self.requests:
                if r.method == method:
                    return r
            await self.recv(min(0.2, max(0.0, deadline - loop.time())))
        return None

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


def sdp_offer(host: str, port: int, direction: str = "sendrecv") -> bytes:
    return (
        f"v=0\r\no=test 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        f"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na={direction}\r\n"
    ).encode()


class Caller:
    """One INVITE dialog driven by hand from a :class:`SipClient`."""

    def __init__(self, client: SipClient, dialled: str, media_port: int = 4000) -> None:
        self.client = client
        host, port = client.local[0], client.local[1]
        self.tag = f"{_rng.getrandbits(32):x}"
        self.call_id = f"{_rng.getrandbits(64):x}@caller"
        self.dialled = dialled
        self.branch = f"z9hG4bK{_rng.getrandbits(64):x}"
        self.media_port = media_port
        self.contact = f"<sip:caller@{host}:{port}>"
        self.to = f"<sip:{dialled}@hotline>"
        self.cseq = 1
        self.remote_tag: str | None = None

    def invite(self, extra: tuple[tuple[str, str], ...] = ()) -> Request:
        host, port = self.client.local[0], self.client.local[1]
        items = [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch={self.branch};rport"), ("Max-Forwards", "70"),
            ("From", f"\"Citizen\" <sip:13900000000@{host}>;tag={self.tag}"), ("To", self.to),
            ("Call-ID", self.call_id), ("CSeq", f"{self.cseq} INVITE"), ("Contact", self.contact),
            ("Content-Type", "application/sdp"), *extra,
        ]
        server = self.client.server
        return Request.build("INVITE", parse_uri(f"sip:{self.dialled}@{server[0]}:{server[1]}"), Headers(items),
                             sdp_offer(host, self.media_port))

    def in_dialog(self, method: str, cseq: int, body: bytes = b"", branch: str | None = None) -> Request:
        host, port = self.client.local[0], self.client.local[1]
        items = [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch={branch or 'z9hG4bK' + format(_rng.getrandbits(64), 'x')};rport"),
            ("Max-Forwards", "70"), ("From", f"<sip:13900000000@{host}>;tag={self.tag}"),
            ("To", f"{self.to};tag={self.remote_tag}" if self.remote_tag else self.to),
            ("Call-ID", self.call_id), ("CSeq", f"{cseq} {method}"), ("Contact", self.contact),
        ]
        if body:
            items.append(("Content-Type", "application/sdp"))
        server = self.client.server
        return Request.build(method, parse_uri(f"sip:{self.dialled}@{server[0]}:{server[1]}"), Headers(items), body)

    async def call(self, timeout: float = 10.0) -> Response | None:
        """INVITE and wait for the final response; ACK it (same branch for a non-2xx)."""
        client = self.client
        client.send_raw(self.invite().serialize())
        provisional: list[int] = []
        while True:
            response = await client.recv(timeout)
            if response is None:
                return None
            if response.status < 200:
                provisional.append(response.status)
                continue
            break
        self.provisional = provisional
        self.remote_tag = response.to_addr().tag
        if response.status >= 300:
            ack = self.in_dialog("ACK", self.cseq, branch=self.branch)
        else:
            ack = self.in_dialog("ACK", self.cseq)
        client.send_raw(ack.serialize())
        self.final = response
        return response

    def cancel(self) -> None:
        host, port = self.client.local[0], self.client.local[1]
        items = [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch={self.branch};rport"), ("Max-Forwards", "70"),
            ("From", f"\"Citizen\" <sip:13900000000@{host}>;tag={self.tag}"), ("To", self.to),
            ("Call-ID", self.call_id), ("CSeq", f"{self.cseq} CANCEL"),
        ]
        server = self.client.server
        req = Request.build("CANCEL", parse_uri(f"sip:{self.dialled}@{server[0]}:{server[1]}"), Headers(items))
        self.client.send_raw(req.serialize())
