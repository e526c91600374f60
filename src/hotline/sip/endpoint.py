"""The SIP endpoint "connection" object in the aioquic style.

:class:`Endpoint` ties the transport to the transactions for one local
socket (UDP by default)::

    endpoint.receive_datagram(data, addr, now)   # network -> protocol
    endpoint.handle_timer(now)                   # when get_timer() is due
    for data, addr in endpoint.datagrams_to_send(now): sock.sendto(data, addr)
    while (event := endpoint.next_event()) is not None: ...
    endpoint.get_timer()                         # re-arm one loop.call_at

What it does by itself, so the asyncio engine stays small:

* garbage (unparseable datagrams without the headers needed for a reply) is
  dropped and reported as :class:`BadMessage`; broken requests whose headers
  allow a reply get a stateless ``400`` (with a Warning naming the header);
  semantically unacceptable requests get the :func:`validate_request`
  rejection (405/415/416/420/501/505...) through a server transaction, so
  retransmissions are answered the same way; a malformed ACK or response is
  dropped, never answered;
* ``100 Trying`` to every new INVITE; retransmissions of requests and of
  final responses (timers A, E, G), ACK for non-2xx (inside the INVITE
  client transaction);
* CANCEL at the UAS (§9.2): ``481`` when nothing matches, else ``200`` to the
  CANCEL and ``487`` to the INVITE if no final response was sent yet;
  at the UAC, :meth:`Endpoint.cancel` waits for a provisional response first;
* the UAS core's 2xx retransmission until the ACK (§13.3.1.4), with
  :class:`AckTimeout` after 64*T1;
* ``received``/``rport`` on the top Via (§18.2.1, RFC 3581); responses go
  back to the source address of the request.

Dialogs are kept by the caller (:mod:`hotline.sip.dialog`).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass
from typing import Union

from hotline.sip.errors import SipLocalError, SipParseError
from hotline.sip.grammar import quote, split_list
from hotline.sip.headers import Via
from hotline.sip.message import Request, Response, parse_message, response_for, response_for_headers
from hotline.sip.transaction import (
    Action,
    ClientTransaction,
    Deliver,
    Kind,
    ServerTransaction,
    State,
    TimerConfig,
    Transaction,
    Transmit,
    client_key_for_response,
    make_cancel,
    server_key,
)
from hotline.sip.validate import (
    DEFAULT_ALLOWED_METHODS,
    validate_request,
    validate_response,
)

__all__ = [
    "AckReceived",
    "AckTimeout",
    "Address",
    "BadMessage",
    "CancelReceived",
    "Endpoint",
    "Event",
    "RequestReceived",
    "ResponseReceived",
    "TransactionTerminated",
    "TransactionTimeout",
    "TransportFailure",
]

Address = tuple[str, int]
TxKey = tuple[object, ...]


@dataclass(frozen=True)
class RequestReceived:
    """A new request (not ACK, not CANCEL); answer with :meth:`Endpoint.send_response`."""

    request: Request
    addr: Address
    key: TxKey


@dataclass(frozen=True)
class AckReceived:
    """The ACK for a 2xx (its own transaction-less request, §13.3.1.4)."""

    request: Request
    addr: Address


@dataclass(frozen=True)
class CancelReceived:
    """A CANCEL matched the INVITE server transaction ``key`` (already answered)."""

    key: TxKey
    request: Request


@dataclass(frozen=True)
class ResponseReceived:
    """A response to our request ``key`` (None: a retransmitted 2xx after the
    transaction ended — re-send the ACK)."""

    response: Response
    key: TxKey | None


@dataclass(frozen=True)
class TransactionTimeout:
    key: TxKey


@dataclass(frozen=True)
class TransportFailure:
    key: TxKey


@dataclass(frozen=True)
class TransactionTerminated:
    key: TxKey


@dataclass(frozen=True)
class AckTimeout:
    """Our 2xx to the INVITE ``key`` was never acknowledged (send BYE)."""

    key: TxKey
    response: Response


@dataclass(frozen=True)
class BadMessage:
    """A datagram that was dropped or answered with an error (for logs and counters)."""

    addr: Address
    reason: str
    answered_with: int | None


Event = Union[
    RequestReceived, AckReceived, CancelReceived, ResponseReceived, TransactionTimeout,
    TransportFailure, TransactionTerminated, AckTimeout, BadMessage,
]


@dataclass
class _OkRetransmit:
    key: TxKey
    response: Response
    addr: Address
    interval: float
    next_at: float
    give_up_at: float


class Endpoint:
    """Sans-IO SIP endpoint for one local transport address."""

    def __init__(
        self,
        *,
        local_host: str,
        local_port: int,
        transport: str = "UDP",
        timers: TimerConfig | None = None,
        rng: random.Random | None = None,
        allowed_methods: frozenset[str] = DEFAULT_ALLOWED_METHODS,
        supported_extensions: frozenset[str] = frozenset(),
        accepted_content_types: frozenset[str] = frozenset({"application/sdp"}),
        max_transactions: int = 20_000,
    ) -> None:
        self.local_host = local_host
        self.local_port = local_port
        self.transport = transport.upper()
        self.reliable = self.transport != "UDP"
        self.timers = timers or TimerConfig()
        self._rng = rng or random.SystemRandom()
        self._validation = dict(
            allowed_methods=allowed_methods,
            supported_extensions=supported_extensions,
            accepted_content_types=accepted_content_types,
        )
        self.max_transactions = max_transactions
        self._server: dict[TxKey, ServerTransaction] = {}
        self._client: dict[TxKey, ClientTransaction] = {}
        self._peer: dict[TxKey, Address] = {}
        self._pending_cancel: set[TxKey] = set()
        self._ok: dict[tuple[str, int], _OkRetransmit] = {}
        self._out: list[tuple[bytes, Address]] = []
        self._events: deque[Event] = deque()
        # Timer heap with lazy deletion: an entry is live while _scheduled[key] equals its deadline.
        self._heap: list[tuple[float, int, TxKey]] = []
        self._scheduled: dict[TxKey, float] = {}
        self._seq = itertools.count()

    # identifiers ------------------------------------------------------------
    def new_branch(self) -> str:
        return f"z9hG4bK{self._rng.getrandbits(64):016x}"

    def new_tag(self) -> str:
        return f"{self._rng.getrandbits(48):012x}"

    def new_call_id(self) -> str:
        return f"{self._rng.getrandbits(96):024x}@{self.local_host}"

    def via(self, branch: str | None = None) -> Via:
        """Our Via for a new request (with rport, RFC 3581)."""
        return Via(self.transport, self.local_host, self.local_port,
                   (("branch", branch or self.new_branch()), ("rport", None)))

    # aioquic-style surface ------------------------------------------------------
    def datagrams_to_send(self, now: float) -> list[tuple[bytes, Address]]:
        out, self._out = self._out, []
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        deadlines = [min(ok.next_at, ok.give_up_at) for ok in self._ok.values()]
        while self._heap:
            deadline, _, key = self._heap[0]
            if self._scheduled.get(key) == deadline:
                deadlines.append(deadline)
                break
            heapq.heappop(self._heap)  # stale entry
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            deadline, _, key = heapq.heappop(self._heap)
            if self._scheduled.get(key) != deadline:
                continue
            del self._scheduled[key]
            tx = self._server.get(key) or self._client.get(key)
            if tx is not None:
                self._run(tx, tx.handle_timer(now))
        for ident, ok in list(self._ok.items()):
            if ok.give_up_at <= now:
                del self._ok[ident]
                self._events.append(AckTimeout(ok.key, ok.response))
            elif ok.next_at <= now:
                self._out.append((ok.response.serialize(), ok.addr))
                ok.interval = min(ok.interval * 2, self.timers.t2)
                ok.next_at = now + ok.interval

    def awaiting_final(self, key: TxKey) -> bool:
        """Is server transaction ``key`` still waiting for our final response?
        (False once answered, CANCELled — the endpoint sent 487 — or gone.)"""
        tx = self._server.get(key)
        return tx is not None and tx.state in (State.TRYING, State.PROCEEDING)

    @property
    def transaction_count(self) -> int:
        return len(self._server) + len(self._client)

    # sending ---------------------------------------------------------------------
    def send_request(self, request: Request, addr: Address, now: float) -> TxKey:
        """Start a client transaction (any method but ACK); returns its key."""
        if request.method == "ACK":
            raise SipLocalError("send an ACK with send_ack()")
        tx = ClientTransaction(request, reliable=self.reliable, timers=self.timers)
        if tx.key in self._client:
            raise SipLocalError("a transaction with this branch and method exists")
        self._client[tx.key] = tx
        self._peer[tx.key] = addr
        self._run(tx, tx.start(now))
        self.handle_timer(now)
        return tx.key

    def send_ack(self, ack: Request, addr: Address) -> None:
        """The ACK for a 2xx: sent as is, no transaction."""
        if ack.method != "ACK":
            raise SipLocalError("not an ACK")
        self._out.append((ack.serialize(), addr))

    def send_response(self, key: TxKey, response: Response, now: float) -> None:
        """Answer the request of server transaction ``key``."""
        tx = self._server.get(key)
        if tx is None:
            raise SipLocalError("no such server transaction (already terminated?)")
        self._run(tx, tx.send_response(response, now))
        if tx.kind is Kind.INVITE_SERVER and 200 <= response.status < 300:
            ident = (response.call_id(), response.cseq().number)
            t1 = self.timers.t1
            self._ok[ident] = _OkRetransmit(key, response, self._peer[key], t1, now + t1, now + 64 * t1)
        self.handle_timer(now)

    def cancel(self, key: TxKey, now: float) -> TxKey | None:
        """Cancel our INVITE ``key``: now if a provisional response came, else
        as soon as one does (§9.1).  Returns the CANCEL's key when sent."""
        tx = self._client.get(key)
        if tx is None or tx.kind is not Kind.INVITE_CLIENT:
            return None
        if tx.state is State.CALLING:
            self._pending_cancel.add(key)
            return None
        if tx.state is State.PROCEEDING:
            return self.send_request(make_cancel(tx.request), self._peer[key], now)
        return None

    # receiving ----------------------------------------------------------------
    def receive_datagram(self, data: bytes, addr: Address, now: float) -> None:
        if not data.strip(b"\r\n\t "):
            return  # keep-alive
        try:
            message = parse_message(data, stream=self.reliable)
        except SipParseError as exc:
            self._bad_datagram(exc, addr)
            return
        self.receive_message(message, addr, now)

    def receive_message(self, message: Request | Response | SipParseError, addr: Address, now: float) -> None:
        """A message already cut by a :class:`~hotline.sip.message.StreamFramer`
        (TCP/TLS), or the SipParseError object the framer gave for a framed
        but malformed one."""
        if isinstance(message, SipParseError):
            self._bad_datagram(message, addr)
        elif isinstance(message, Request):
            self._receive_request(message, addr, now)
        else:
            self._receive_response(message, addr, now)
        self.handle_timer(now)

    def _bad_datagram(self, exc: SipParseError, addr: Address) -> None:
        headers = exc.headers
        if exc.is_request and headers is not None and all(
            h in headers for h in ("Via", "From", "To", "Call-ID", "CSeq")
        ):
            cseq = headers.get("CSeq") or ""
            if not cseq.rstrip().upper().endswith("ACK"):
                warning = (("Warning", f'399 {self.local_host} {quote(str(exc))}'),)
                response = response_for_headers(headers, exc.status, to_tag=self.new_tag(), extra=warning)
                self._out.append((response.serialize(), addr))
                self._events.append(BadMessage(addr, str(exc), exc.status))
                return
        self._events.append(BadMessage(addr, str(exc), None))

    def _stamp_received(self, request: Request, addr: Address) -> Request:
        """§18.2.1 / RFC 3581: record where the request really came from."""
        first_line = request.headers.get_all("Via")[0]
        vias = request.vias()
        top = vias[0]
        if top.host != addr[0]:
            top = top.with_param("received", addr[0])
        if top.has_param("rport") and not top.param("rport"):
            top = top.with_param("rport", str(addr[1]))
        if top == vias[0]:
            return request
        count = len(split_list(first_line, "Via"))
        rest = [str(v) for v in vias[1:count]]
        new_first = ", ".join([str(top), *rest])
        lines = request.headers.get_all("Via")
        headers = request.headers.with_replaced("Via", new_first, *lines[1:])
        return request.replace(headers=headers)

    def _receive_request(self, request: Request, addr: Address, now: float) -> None:
        try:
            key = server_key(request)
        except SipParseError:
            key = None
        if key is not None and key in self._server:
            tx = self._server[key]
            if request.method == "ACK" and tx.kind is Kind.INVITE_SERVER and tx.state is State.ACCEPTED:
                self._ack_for_2xx(request, addr)
                return
            if request.method != "ACK" or tx.kind is Kind.INVITE_SERVER:
                self._run(tx, tx.receive_request(request, now))
                return
        rejection = validate_request(request, **self._validation)  # type: ignore[arg-type]
        if request.method == "ACK":  # never answered
            if rejection is not None:
                self._events.append(BadMessage(addr, rejection.message, None))
            else:
                self._ack_for_2xx(self._stamp_received(request, addr), addr)
            return
        if rejection is not None and (key is None or rejection.status in (400, 505)):
            # Stateless: the headers a transaction needs may be the broken part.
            warning = (("Warning", f"399 {self.local_host} {quote(rejection.message)}"),)
            response = response_for(request, rejection.status, to_tag=self.new_tag(),
                                    extra=rejection.extra_headers + warning)
            self._out.append((response.serialize(), addr))
            self._events.append(BadMessage(addr, rejection.message, rejection.status))
            return
        assert key is not None
        if self.transaction_count >= self.max_transactions:
            response = response_for(request, 503, to_tag=self.new_tag(), extra=(("Retry-After", "5"),))
            self._out.append((response.serialize(), addr))
            self._events.append(BadMessage(addr, "too many transactions", 503))
            return
        request = self._stamp_received(request, addr)
        tx = ServerTransaction(request, reliable=self.reliable, timers=self.timers, key=key)
        self._server[key] = tx
        self._peer[key] = addr
        if rejection is not None:
            response = response_for(request, rejection.status, to_tag=self.new_tag(), extra=rejection.extra_headers)
            self._run(tx, tx.send_response(response, now))
            self._events.append(BadMessage(addr, rejection.message, rejection.status))
            return
        if request.method == "CANCEL":
            self._receive_cancel(tx, request, now)
            return
        if request.method == "INVITE":
            self._run(tx, tx.send_response(response_for(request, 100), now))
        self._events.append(RequestReceived(request, addr, key))

    def _receive_cancel(self, tx: ServerTransaction, cancel: Request, now: float) -> None:
        invite_key = server_key(cancel, "INVITE")
        invite_tx = self._server.get(invite_key)
        if invite_tx is None or invite_tx.kind is not Kind.INVITE_SERVER:
            self._run(tx, tx.send_response(response_for(cancel, 481, to_tag=self.new_tag()), now))
            return
        previous = invite_tx.last_response
        tag = None
        if previous is not None:
            tag = previous.to_addr().tag
        tag = tag or self.new_tag()
        self._run(tx, tx.send_response(response_for(cancel, 200, to_tag=tag), now))
        if invite_tx.state is State.PROCEEDING:
            self._run(invite_tx, invite_tx.send_response(response_for(invite_tx.request, 487, to_tag=tag), now))
            self._events.append(CancelReceived(invite_key, cancel))

    def _ack_for_2xx(self, ack: Request, addr: Address) -> None:
        try:
            ident = (ack.call_id(), ack.cseq().number)
        except SipParseError:
            return
        self._ok.pop(ident, None)
        self._events.append(AckReceived(ack, addr))

    def _receive_response(self, response: Response, addr: Address, now: float) -> None:
        reason = validate_response(response)
        if reason is not None:
            self._events.append(BadMessage(addr, reason, None))
            return
        try:
            key = client_key_for_response(response)
        except SipParseError as exc:
            self._events.append(BadMessage(addr, str(exc), None))
            return
        tx = self._client.get(key)
        if tx is None:
            if 200 <= response.status < 300 and response.cseq().method == "INVITE":
                self._events.append(ResponseReceived(response, None))
            return
        self._run(tx, tx.receive_response(response, now))
        if key in self._pending_cancel and 100 <= response.status < 200:
            self._pending_cancel.discard(key)
            if tx.state is State.PROCEEDING:
                self.send_request(make_cancel(tx.request), self._peer[key], now)

    # plumbing -------------------------------------------------------------------
    def _run(self, tx: Transaction, actions: list[Action]) -> None:
        self._process(tx, actions)
        deadline = tx.get_timer()
        if tx.terminated or deadline is None:
            self._scheduled.pop(tx.key, None)
        elif self._scheduled.get(tx.key) != deadline:
            self._scheduled[tx.key] = deadline
            heapq.heappush(self._heap, (deadline, next(self._seq), tx.key))

    def _process(self, tx: Transaction, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Transmit):
                self._out.append((action.message.serialize(), self._peer[tx.key]))
            elif isinstance(action, Deliver):
                event = action.event
                if event.kind == "response" and isinstance(event.message, Response):
                    self._events.append(ResponseReceived(event.message, tx.key))
                elif event.kind == "ack" and isinstance(event.message, Request):
                    self._ack_for_2xx(event.message, self._peer[tx.key])
                elif event.kind == "timeout":
                    self._events.append(TransactionTimeout(tx.key))
                elif event.kind == "transport_error":
                    self._events.append(TransportFailure(tx.key))
                elif event.kind == "terminated":
                    if isinstance(tx, ServerTransaction):
                        self._server.pop(tx.key, None)
                    else:
                        self._client.pop(tx.key, None)
                    self._peer.pop(tx.key, None)
                    self._pending_cancel.discard(tx.key)
                    self._events.append(TransactionTerminated(tx.key))
