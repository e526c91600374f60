"""SIP transports: asyncio UDP and TCP listeners, each driving one sans-IO
:class:`hotline.sip.endpoint.Endpoint`.

A :class:`SipChannel` owns one endpoint and does the three things the
sans-IO core cannot: read sockets, write sockets, and keep one loop timer
armed at ``endpoint.get_timer()``.  Events go to the core's
``handler(channel, event)``; responses to our own requests go to the
callback given to :meth:`SipChannel.request` (``None`` = timeout or
transport failure), so the call logic never matches transaction keys.

* UDP: one datagram is one message; responses go back to the request's
  source address (the endpoint stamps ``received``/``rport``).
* TCP: one :class:`~hotline.sip.message.StreamFramer` per connection
  (Content-Length framing); messages to an address go out on the connection
  from that address; a framing error closes the connection; CRLF keep-alives
  are answered.
* ``admit(addr)`` is asked before any parsing (rate limits and bans): a
  refused datagram costs one dictionary lookup and is dropped silently.
* Nothing from the network raises into the loop: the handler is wrapped,
  its exceptions are logged and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from hotline.sip.endpoint import (
    Address,
    BadMessage,
    Endpoint,
    Event,
    ResponseReceived,
    TransactionTerminated,
    TransactionTimeout,
    TransportFailure,
    TxKey,
)
from hotline.sip.validate import DEFAULT_ALLOWED_METHODS
from hotline.sip.message import KeepAlive, Request, Response, StreamFramer

__all__ = ["SipChannel", "ResponseCallback", "EventHandler", "Admit"]

log = logging.getLogger(__name__)

ResponseCallback = Callable[[Response | None], None]
EventHandler = Callable[["SipChannel", Event], None]
Admit = Callable[[Address], bool]


class SipChannel:
    """One local SIP transport (UDP socket or TCP listener) and its endpoint."""

    def __init__(self, endpoint: Endpoint, handler: EventHandler, admit: Admit | None = None) -> None:
        self.endpoint = endpoint
        self.handler = handler
        self.admit = admit
        self.transport_name = endpoint.transport
        self.loop = asyncio.get_running_loop()
        self._pending: dict[TxKey, ResponseCallback] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: dict[Address, _TcpConnection] = {}
        self.received = 0
        self.dropped = 0
        self.bad = 0
        self.handler_errors = 0
        self.closed = False

    # -- life cycle ---------------------------------------------------------------
    @classmethod
    async def open_udp(cls, host: str, port: int, handler: EventHandler, *, admit: Admit | None = None,
                       advertised_host: str = "", allowed_methods: frozenset[str] | None = None) -> SipChannel:
        loop = asyncio.get_running_loop()
        holder: list[SipChannel] = []
        transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(holder), local_addr=(host, port))
        bound = transport.get_extra_info("sockname")
        endpoint = Endpoint(local_host=advertised_host or bound[0], local_port=bound[1], transport="UDP",
                            allowed_methods=allowed_methods or DEFAULT_ALLOWED_METHODS)
        channel = cls(endpoint, handler, admit)
        channel._udp = transport
        channel.address = (bound[0], bound[1])
        holder.append(channel)
        return channel

    @classmethod
    async def open_tcp(cls, host: str, port: int, handler: EventHandler, *, admit: Admit | None = None,
                       advertised_host: str = "", allowed_methods: frozenset[str] | None = None) -> SipChannel:
        loop = asyncio.get_running_loop()
        holder: list[SipChannel] = []
        server = await loop.create_server(lambda: _TcpConnection(holder), host, port)
        bound = server.sockets[0].getsockname()
        endpoint = Endpoint(local_host=advertised_host or bound[0], local_port=bound[1], transport="TCP",
                            allowed_methods=allowed_methods or DEFAULT_ALLOWED_METHODS)
        channel = cls(endpoint, handler, admit)
        channel._server = server
        channel.address = (bound[0], bound[1])
        holder.append(channel)
        return channel

    address: Address = ("", 0)

    async def close(self) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._udp is not None:
            self._udp.close()
        for conn in list(self._connections.values()):
            conn.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # -- sending --------------------------------------------------------------------
    def request(self, request: Request, addr: Address, on_response: ResponseCallback | None = None) -> TxKey:
        """Start a client transaction; ``on_response`` gets each response (None: timeout/failure)."""
        key = self.endpoint.send_request(request, addr, self.loop.time())
        if on_response is not None:
            self._pending[key] = on_response
        self.flush()
        return key

    def respond(self, key: TxKey, response: Response) -> bool:
        """Answer server transaction ``key``; False when it no longer exists."""
        try:
            self.endpoint.send_response(key, response, self.loop.time())
        except Exception:  # SipLocalError: transaction gone or already answered
            log.debug("cannot answer %s", key, exc_info=True)
            return False
        self.flush()
        return True

    def ack(self, ack: Request, addr: Address) -> None:
        self.endpoint.send_ack(ack, addr)
        self.flush()

    def cancel(self, key: TxKey) -> None:
        try:
            self.endpoint.cancel(key, self.loop.time())
        except Exception:  # SipLocalError: already cancelled
            log.debug("cannot cancel %s", key, exc_info=True)
        self.flush()

    def _send(self, data: bytes, addr: Address) -> None:
        if self._udp is not None:
            try:
                self._udp.sendto(data, addr)
            except OSError:
                self.dropped += 1
            return
        conn = self._connections.get(addr)
        if conn is None or conn.transport is None:
            self.dropped += 1  # no connection to that address (we do not dial out over TCP)
            return
        conn.transport.write(data)

    # -- receiving --------------------------------------------------------------------
    def datagram(self, data: bytes, addr: Address) -> None:
        if self.admit is not None and not self.admit(addr):
            self.dropped += 1
            return
        self.received += 1
        self.endpoint.receive_datagram(data, addr, self.loop.time())
        self.flush()

    def message(self, item: Any, addr: Address) -> None:
        if self.admit is not None and not self.admit(addr):
            self.dropped += 1
            return
        self.received += 1
        self.endpoint.receive_message(item, addr, self.loop.time())
        self.flush()

    def flush(self) -> None:
        """Send what the endpoint wants sent, deliver its events, re-arm the timer."""
        endpoint = self.endpoint
        now = self.loop.time()
        for data, addr in endpoint.datagrams_to_send(now):
            self._send(data, addr)
        while (event := endpoint.next_event()) is not None:
            self._dispatch(event)
            for data, addr in endpoint.datagrams_to_send(now):
                self._send(data, addr)
        if self.closed:
            return
        when = endpoint.get_timer()
        if when != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._timer_at = when
            if when is not None:
                self._timer = self.loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.endpoint.handle_timer(self.loop.time())
        self.flush()

    def _dispatch(self, event: Event) -> None:
        try:
            if isinstance(event, ResponseReceived) and event.key is not None:
                callback = self._pending.get(event.key)
                if callback is not None:
                    callback(event.response)
                    return
            elif isinstance(event, (TransactionTimeout, TransportFailure)):
                callback = self._pending.pop(event.key, None)
                if callback is not None:
                    callback(None)
                return
            elif isinstance(event, TransactionTerminated):
                self._pending.pop(event.key, None)
                return
            elif isinstance(event, BadMessage):
                self.bad += 1
            self.handler(self, event)
        except Exception:
            self.handler_errors += 1
            log.exception("SIP event handler failed on %r", type(event).__name__)

    @property
    def pending(self) -> int:
        return len(self._pending)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, holder: list[SipChannel]) -> None:
        self.holder = holder

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.holder:
            try:
                self.holder[0].datagram(data, (addr[0], addr[1]))
            except Exception:
                log.exception("SIP datagram from %s crashed the endpoint (dropped)", addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("SIP UDP error: %s", exc)


class _TcpConnection(asyncio.Protocol):
    MAX_CONNECTIONS_PER_LISTENER = 10_000

    def __init__(self, holder: list[SipChannel]) -> None:
        self.holder = holder
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = (peer[0], peer[1])
        channel = self.holder[0] if self.holder else None
        if channel is None or len(channel._connections) >= self.MAX_CONNECTIONS_PER_LISTENER or (
            channel.admit is not None and not channel.admit(self.peer)
        ):
            transport.abort()
            return
        channel._connections[self.peer] = self

    def data_received(self, data: bytes) -> None:
        channel = self.holder[0]
        try:
            items = self.framer.feed(data)
        except Exception:  # framing error: the stream cannot be resynchronised
            channel.bad += 1
            self.close()
            return
        for item in items:
            if isinstance(item, KeepAlive):
                if self.transport is not None:
                    self.transport.write(b"\r\n")
                continue
            try:
                channel.message(item, self.peer)
            except Exception:
                log.exception("SIP message from %s crashed the endpoint (dropped)", self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.holder and self.holder[0]._connections.get(self.peer) is self:
            del self.holder[0]._connections[self.peer]
        self.transport = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
