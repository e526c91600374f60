"""The PBX process: SIP transports + registrar + protection + B2BUA + media engine.

``hotline pbx`` (Django side) calls :func:`run` with the configuration and a
:class:`~hotline.pbx.directory.PbxDirectory`; tests and benchmarks use
:class:`PbxServer` directly::

    server = PbxServer(PbxConfig(sip_udp=("127.0.0.1", 0), ...), MemoryDirectory(...))
    await server.start()          # binds; OSError when a port is taken
    server.udp_address            # the bound (host, port)
    ...
    await server.stop()           # BYE to every call, recordings flushed, sockets closed

Nothing here imports Django; every directory call is awaited on the loop and
guarded, so a failing directory answers 500 to that request (or loses that
CDR, logged) and never takes the process down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Coroutine
from typing import Any

from hotline.pbx.calls import ALLOW, CallManager
from hotline.pbx.config import PbxConfig
from hotline.pbx.directory import PbxDirectory, Trunk
from hotline.pbx.engine import MediaEngine
from hotline.pbx.ports import PortRange, RtpPortAllocator
from hotline.pbx.protection import Protection
from hotline.pbx.registrar import Authenticator, Registrar
from hotline.pbx.transport import SipChannel
from hotline.pbx.trunks import TrunkRegistration
from hotline.sip.digest import DigestServer
from hotline.sip.endpoint import (
    AckReceived,
    AckTimeout,
    Address,
    CancelReceived,
    Event,
    RequestReceived,
    ResponseReceived,
    TxKey,
)
from hotline.sip.message import Request, response_for

__all__ = ["PbxServer", "run"]

log = logging.getLogger(__name__)

ALLOWED_METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "REFER", "NOTIFY", "UPDATE"})
HOUSEKEEPING_SECONDS = 5.0
TRUNK_RELOAD_SECONDS = 60.0


class PbxServer:
    def __init__(self, config: PbxConfig, directory: PbxDirectory) -> None:
        self.config = config
        self.directory = directory
        self.protection = Protection(
            rate=config.rate_limit_per_second, burst=config.rate_limit_burst,
            ban_after=config.ban_after_failures, ban_seconds=config.ban_seconds, trusted=config.trusted_networks,
        )
        self.digest = DigestServer(realm=config.realm, secret=config.secret or os.urandom(32),
                                   algorithms=config.digest_algorithms)
        self.registrar = Registrar(min_expires=config.min_expires, max_expires=config.max_expires)
        self.auth = Authenticator(self.digest, directory, self.protection)
        low, high = config.rtp_ports
        low += low % 2
        self.engine = MediaEngine(
            RtpPortAllocator(PortRange(low, high - 1), host=config.rtp_host),
            max_calls=config.max_calls, media_timeout=config.media_timeout,
        )
        self.calls = CallManager(self)
        self.udp: SipChannel | None = None
        self.tcp: SipChannel | None = None
        self.trunks: list[Trunk] = []
        self.trunk_registrations: list[TrunkRegistration] = []
        self._housekeeping: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._next_trunk_reload = 0.0
        self.request_errors = 0
        self.started = False

    # -- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await self.reload_trunks()
        host = self.config.advertised_host
        try:
            if self.config.sip_udp is not None:
                self.udp = await SipChannel.open_udp(*self.config.sip_udp, self._handle, admit=self.protection.admit, allowed_methods=ALLOWED_METHODS,
                                                     advertised_host=host)
            if self.config.sip_tcp is not None:
                tcp_port = self.config.sip_tcp[1]
                if tcp_port == 0 and self.udp is not None and self.config.sip_udp is not None \
                        and self.config.sip_tcp[0] == self.config.sip_udp[0]:
                    tcp_port = self.udp.address[1]  # same port number for both, when free
                try:
                    self.tcp = await SipChannel.open_tcp(self.config.sip_tcp[0], tcp_port, self._handle,
                                                         admit=self.protection.admit, allowed_methods=ALLOWED_METHODS, advertised_host=host)
                except OSError:
                    if tcp_port == self.config.sip_tcp[1]:
                        raise
                    self.tcp = await SipChannel.open_tcp(*self.config.sip_tcp, self._handle,
                                                         admit=self.protection.admit, allowed_methods=ALLOWED_METHODS, advertised_host=host)
        except BaseException:
            await self._close_channels()
            raise
        self.started = True
        self._housekeeping = loop.call_later(HOUSEKEEPING_SECONDS, self._housekeep)
        self._start_trunk_registrations()
        log.info("pbx listening udp=%s tcp=%s", self.udp_address, self.tcp_address)

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            self._housekeeping = None
        for reg in self.trunk_registrations:
            reg.stop()
        await self.calls.shutdown()
        # let the BYEs leave and (briefly) their answers arrive
        await asyncio.sleep(0.05)
        await self.engine.close()
        await self.calls.wait_tasks()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close_channels()
        self.started = False

    async def _close_channels(self) -> None:
        for channel in (self.udp, self.tcp):
            if channel is not None:
                await channel.close()

    @property
    def udp_address(self) -> tuple[str, int] | None:
        return self.udp.address if self.udp is not None else None

    @property
    def tcp_address(self) -> tuple[str, int] | None:
        return self.tcp.address if self.tcp is not None else None

    def stats(self) -> dict[str, Any]:
        channels = {}
        for name, channel in (("udp", self.udp), ("tcp", self.tcp)):
            if channel is not None:
                channels[name] = {
                    "received": channel.received, "dropped": channel.dropped, "bad": channel.bad,
                    "handler_errors": channel.handler_errors, "transactions": channel.endpoint.transaction_count,
                    "pending": channel.pending,
                }
        return {
            "sip": channels,
            "bindings": self.registrar.count,
            "calls": self.calls.stats(),
            "media": self.engine.stats(),
            "protection": self.protection.stats(),
            "auth_failures": self.auth.failures,
            "request_errors": self.request_errors,
            "nonces_tracked": self.digest.tracked,
        }

    # -- trunks --------------------------------------------------------------------------------
    async def reload_trunks(self) -> None:
        try:
            self.trunks = list(await self.directory.trunks())
        except Exception:
            log.exception("directory.trunks() failed; keeping %d trunks", len(self.trunks))

    def trunk_for_source(self, host: str) -> Trunk | None:
        for trunk in self.trunks:
            if trunk.allowed_sources and self.calls.is_ip_in(host, trunk.allowed_sources):
                return trunk
        return None

    def trunk_for_number(self, number: str) -> Trunk | None:
        best: Trunk | None = None
        for trunk in self.trunks:
            prefix = trunk.outbound_prefix
            if prefix and number.startswith(prefix) and len(number) > len(prefix):
                if best is None or len(prefix) > len(best.outbound_prefix):
                    best = trunk
        return best

    def channel_for(self, transport: str) -> SipChannel | None:
        return self.tcp if transport == "tcp" else self.udp

    async def account_exists(self, username: str) -> bool:
        try:
            return await self.directory.account(username) is not None
        except Exception:
            log.exception("directory.account failed")
            return False

    def _start_trunk_registrations(self) -> None:
        for trunk in self.trunks:
            if trunk.register:
                channel = self.channel_for(trunk.transport)
                if channel is not None:
                    reg = TrunkRegistration(trunk, channel)
                    self.trunk_registrations.append(reg)
                    self.spawn(reg.run())

    # -- events ----------------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _handle(self, channel: SipChannel, event: Event) -> None:
        if isinstance(event, RequestReceived):
            self._request(channel, event.request, event.addr, event.key)
        elif isinstance(event, AckReceived):
            self.calls.ack_received(event.request)
        elif isinstance(event, CancelReceived):
            self.calls.cancel_received(event.key)
        elif isinstance(event, AckTimeout):
            self.calls.ack_timeout(event.key)
        elif isinstance(event, ResponseReceived) and event.key is None:
            # a retransmitted 2xx after its transaction ended: ACK it again
            response = event.response
            leg = self.calls.legs.get((response.call_id(), response.from_addr().tag or ""))
            if leg is not None and leg.ack is not None:
                channel.ack(leg.ack, leg.addr)

    def _request(self, channel: SipChannel, request: Request, addr: Address, key: TxKey) -> None:
        method = request.method
        if request.to_addr().tag is not None:
            if not self.calls.in_dialog(channel, request, addr, key):
                channel.respond(key, response_for(request, 481))
            return
        if method == "OPTIONS":
            channel.respond(key, response_for(request, 200, to_tag=channel.endpoint.new_tag(), extra=(
                ("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", ""),
            )))
        elif method == "REGISTER":
            self._guarded(channel, request, key, self._register(channel, request, addr, key))
        elif method == "INVITE":
            self._guarded(channel, request, key, self.calls.incoming_invite(channel, request, addr, key))
        else:
            channel.respond(key, response_for(request, 481 if method in ("BYE", "INFO", "REFER", "NOTIFY", "UPDATE")
                                              else 405, to_tag=channel.endpoint.new_tag(),
                                              extra=(("Allow", ALLOW),)))

    def _guarded(self, channel: SipChannel, request: Request, key: TxKey, coro: Coroutine[Any, Any, None]) -> None:
        """Run a request handler as a task; if it fails, answer 500 (the transaction never leaks)."""
        async def guarded() -> None:
            try:
                await coro
            except Exception:
                self.request_errors += 1
                log.exception("%s handler failed", request.method)
                channel.respond(key, response_for(request, 500, to_tag=channel.endpoint.new_tag()))

        self.spawn(guarded())

    async def _register(self, channel: SipChannel, request: Request, addr: Address, key: TxKey) -> None:
        loop = asyncio.get_running_loop()
        account, failure = await self.auth.check(request, addr, loop.time())
        tag = channel.endpoint.new_tag()
        if account is None:
            assert failure is not None
            status, header, values = failure
            channel.respond(key, response_for(request, status, to_tag=tag, extra=tuple((header, v) for v in values)))
            return
        status, extra = self.registrar.register(request, account, addr, channel, loop.time())
        channel.respond(key, response_for(request, status, to_tag=tag, extra=extra))

    def _housekeep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.registrar.sweep(now)
        if now >= self._next_trunk_reload:
            self._next_trunk_reload = now + TRUNK_RELOAD_SECONDS
            if self._next_trunk_reload > TRUNK_RELOAD_SECONDS + 1:
                self.spawn(self.reload_trunks())
        self._housekeeping = loop.call_later(HOUSEKEEPING_SECONDS, self._housekeep)


def run(config: PbxConfig, directory: PbxDirectory) -> None:
    """Run the PBX until SIGTERM/SIGINT (blocking); uvloop when installed."""
    factory = None
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        pass

    async def main() -> None:
        server = PbxServer(config, directory)
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # not the main thread
                pass
        try:
            await stop.wait()
        finally:
            await server.stop()

    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main())
