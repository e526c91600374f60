"""The four transaction state machines of RFC 3261 §17 (with RFC 6026's
"Accepted" state for INVITE 2xx), sans-IO.

Everything that decides a transition is in :data:`TRANSITIONS`, as data:
``TRANSITIONS[kind][state][input] -> Step(next_state, effects)``.  A network
input missing from the table is absorbed (a late or stray retransmission); a
user action (sending a response) missing from it raises
:class:`SipLocalError`.  The code below only interprets the effect names.

Timers are deadlines (``now`` + duration) returned by :meth:`Transaction.get_timer`;
the caller calls :meth:`Transaction.handle_timer` when the earliest one is due.
Retransmission timers (A, E, G) run only on unreliable transports; the
wait timers D, I, J, K are zero on reliable ones (RFC 3261 Table 4).

Outputs are :class:`Transmit` (put this message on the wire towards the
transaction's peer) and :class:`Deliver` (hand this event to the transaction
user).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final, Union

from hotline.sip.errors import SipLocalError, SipParseError
from hotline.sip.headers import BRANCH_MAGIC, Headers
from hotline.sip.message import Request, Response
from hotline.sip.uri import SipUri

__all__ = [
    "TRANSITIONS",
    "ClientTransaction",
    "Deliver",
    "Kind",
    "ServerTransaction",
    "State",
    "Step",
    "TimerConfig",
    "Transaction",
    "Transmit",
    "TxEvent",
    "client_key",
    "make_ack_for_non_2xx",
    "make_cancel",
    "server_key",
]


class Kind(enum.Enum):
    INVITE_CLIENT = "ict"
    NON_INVITE_CLIENT = "nict"
    INVITE_SERVER = "ist"
    NON_INVITE_SERVER = "nist"


class State(enum.Enum):
    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


@dataclass(frozen=True)
class TimerConfig:
    """RFC 3261 Table 4 (seconds)."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    timer_d: float = 32.0

    def __post_init__(self) -> None:
        if not (0 < self.t1 <= self.t2) or self.t4 <= 0 or self.timer_d < 0:
            raise ValueError("need 0 < T1 <= T2, T4 > 0, D >= 0")


@dataclass(frozen=True)
class Step:
    next_state: State
    effects: tuple[str, ...] = ()


# Inputs: responses "1xx" "2xx" "3xx-6xx" (client), requests "request" "ack"
# (server), user actions "send_1xx" "send_2xx" "send_3xx-6xx" (server),
# "timer_A".."timer_M", "transport_error".
S = State
_FINAL_CLIENT = ("stop_A", "stop_B", "deliver")
TRANSITIONS: Final[dict[Kind, dict[State, dict[str, Step]]]] = {
    Kind.INVITE_CLIENT: {
        S.CALLING: {
            "1xx": Step(S.PROCEEDING, ("stop_A", "stop_B", "deliver")),
            "2xx": Step(S.ACCEPTED, (*_FINAL_CLIENT, "start_M")),
            "3xx-6xx": Step(S.COMPLETED, (*_FINAL_CLIENT, "send_ack", "start_D")),
            "timer_A": Step(S.CALLING, ("retransmit", "restart_A")),
            "timer_B": Step(S.TERMINATED, ("timeout",)),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.PROCEEDING: {
            "1xx": Step(S.PROCEEDING, ("deliver",)),
            "2xx": Step(S.ACCEPTED, ("deliver", "start_M")),
            "3xx-6xx": Step(S.COMPLETED, ("deliver", "send_ack", "start_D")),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.COMPLETED: {
            "3xx-6xx": Step(S.COMPLETED, ("send_ack",)),
            "timer_D": Step(S.TERMINATED, ()),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.ACCEPTED: {
            "2xx": Step(S.ACCEPTED, ("deliver",)),
            "timer_M": Step(S.TERMINATED, ()),
        },
        S.TERMINATED: {},
    },
    Kind.NON_INVITE_CLIENT: {
        S.TRYING: {
            "1xx": Step(S.PROCEEDING, ("deliver",)),
            "2xx": Step(S.COMPLETED, ("stop_E", "stop_F", "deliver", "start_K")),
            "3xx-6xx": Step(S.COMPLETED, ("stop_E", "stop_F", "deliver", "start_K")),
            "timer_E": Step(S.TRYING, ("retransmit", "restart_E")),
            "timer_F": Step(S.TERMINATED, ("timeout",)),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.PROCEEDING: {
            "1xx": Step(S.PROCEEDING, ("deliver",)),
            "2xx": Step(S.COMPLETED, ("stop_E", "stop_F", "deliver", "start_K")),
            "3xx-6xx": Step(S.COMPLETED, ("stop_E", "stop_F", "deliver", "start_K")),
            "timer_E": Step(S.PROCEEDING, ("retransmit", "restart_E_at_T2")),
            "timer_F": Step(S.TERMINATED, ("timeout",)),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.COMPLETED: {
            "timer_K": Step(S.TERMINATED, ()),
        },
        S.TERMINATED: {},
    },
    Kind.INVITE_SERVER: {
        S.PROCEEDING: {
            "request": Step(S.PROCEEDING, ("resend_response",)),
            "send_1xx": Step(S.PROCEEDING, ("send",)),
            "send_2xx": Step(S.ACCEPTED, ("send", "start_L")),
            "send_3xx-6xx": Step(S.COMPLETED, ("send", "start_G", "start_H")),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.COMPLETED: {
            "request": Step(S.COMPLETED, ("resend_response",)),
            "ack": Step(S.CONFIRMED, ("stop_G", "stop_H", "start_I")),
            "timer_G": Step(S.COMPLETED, ("resend_response", "restart_G")),
            "timer_H": Step(S.TERMINATED, ("timeout",)),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.CONFIRMED: {
            "timer_I": Step(S.TERMINATED, ()),
        },
        S.ACCEPTED: {
            "ack": Step(S.ACCEPTED, ("deliver",)),
            "send_2xx": Step(S.ACCEPTED, ("send",)),
            "timer_L": Step(S.TERMINATED, ()),
        },
        S.TERMINATED: {},
    },
    Kind.NON_INVITE_SERVER: {
        S.TRYING: {
            "send_1xx": Step(S.PROCEEDING, ("send",)),
            "send_2xx": Step(S.COMPLETED, ("send", "start_J")),
            "send_3xx-6xx": Step(S.COMPLETED, ("send", "start_J")),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.PROCEEDING: {
            "request": Step(S.PROCEEDING, ("resend_response",)),
            "send_1xx": Step(S.PROCEEDING, ("send",)),
            "send_2xx": Step(S.COMPLETED, ("send", "start_J")),
            "send_3xx-6xx": Step(S.COMPLETED, ("send", "start_J")),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.COMPLETED: {
            "request": Step(S.COMPLETED, ("resend_response",)),
            "timer_J": Step(S.TERMINATED, ()),
            "transport_error": Step(S.TERMINATED, ("transport_error",)),
        },
        S.TERMINATED: {},
    },
}
del S

INITIAL_STATE: Final = {
    Kind.INVITE_CLIENT: State.CALLING,
    Kind.NON_INVITE_CLIENT: State.TRYING,
    Kind.INVITE_SERVER: State.PROCEEDING,
    Kind.NON_INVITE_SERVER: State.TRYING,
}
NETWORK_INPUTS: Final = frozenset({"1xx", "2xx", "3xx-6xx", "request", "ack", "transport_error"})
USER_INPUTS: Final = frozenset({"send_1xx", "send_2xx", "send_3xx-6xx"})
TIMER_INPUTS: Final = frozenset(f"timer_{c}" for c in "ABDEFGHIJKLM")


# outputs ------------------------------------------------------------------


@dataclass(frozen=True)
class TxEvent:
    """Something the transaction user must know.

    ``kind``: ``"response"`` (``message`` is the Response), ``"ack"`` (an
    ACK for a 2xx absorbed by an Accepted INVITE server transaction),
    ``"timeout"``, ``"transport_error"``, ``"terminated"``.
    """

    kind: str
    key: tuple[object, ...]
    message: Request | Response | None = None


@dataclass(frozen=True)
class Transmit:
    message: Request | Response


@dataclass(frozen=True)
class Deliver:
    event: TxEvent


Action = Union[Transmit, Deliver]


# keys (matching rules) ------------------------------------------------------


def client_key(branch: str, method: str) -> tuple[object, ...]:
    """§17.1.3: the branch of the top Via and the CSeq method."""
    return ("client", branch, method)


def client_key_for_response(response: Response) -> tuple[object, ...]:
    """Raises SipParseError for a response without a usable Via/CSeq."""
    branch = response.top_via().branch
    if branch is None:
        raise SipParseError("no branch", header="Via")
    return client_key(branch, response.cseq().method)


def server_key(request: Request, method: str | None = None) -> tuple[object, ...]:
    """§17.2.3 (branch with the magic cookie) or the RFC 2543 fallback.

    ACK maps to the INVITE it acknowledges; pass ``method="INVITE"`` to find
    the INVITE a CANCEL refers to (§9.2).  Raises SipParseError when the
    headers needed for matching are malformed.
    """
    via = request.top_via()
    m = method or ("INVITE" if request.method == "ACK" else request.method)
    if via.is_rfc3261_branch:
        return ("server", via.branch, via.sent_by, m)
    uri = request.uri
    uri_key: object = uri.key() + tuple(sorted((k.lower(), v) for k, v in uri.params)) if isinstance(uri, SipUri) else str(uri)
    return ("server-2543", uri_key, request.from_addr().tag, request.call_id(), request.cseq().number, str(via), m)


# message construction -------------------------------------------------------


def make_ack_for_non_2xx(invite: Request, response: Response) -> Request:
    """§17.1.1.3: same Request-URI, Call-ID, From, CSeq number, top Via and
    Route as the INVITE; To from the response."""
    via = invite.headers.get_all("Via")[0]
    first_via = invite.vias()[0]
    items: list[tuple[str, str]] = [("Via", str(first_via) if "," in via else via)]
    items += [("Route", v) for v in invite.headers.get_all("Route")]
    items += [
        ("Max-Forwards", "70"),
        ("From", invite.headers.get_all("From")[0]),
        ("To", response.headers.get_all("To")[0]),
        ("Call-ID", invite.headers.get_all("Call-ID")[0]),
        ("CSeq", f"{invite.cseq().number} ACK"),
    ]
    return Request.build("ACK", invite.uri, Headers(items))


def make_cancel(invite: Request) -> Request:
    """§9.1: a CANCEL for ``invite`` (same branch, so it matches hop by hop)."""
    items: list[tuple[str, str]] = [("Via", str(invite.vias()[0]))]
    items += [("Route", v) for v in invite.headers.get_all("Route")]
    items += [
        ("Max-Forwards", "70"),
        ("From", invite.headers.get_all("From")[0]),
        ("To", invite.headers.get_all("To")[0]),
        ("Call-ID", invite.headers.get_all("Call-ID")[0]),
        ("CSeq", f"{invite.cseq().number} CANCEL"),
    ]
    return Request.build("CANCEL", invite.uri, Headers(items))


# the machines --------------------------------------------------------------


@dataclass
class Transaction:
    """Common engine: state, timers and the interpreter of effect names."""

    kind: Kind
    key: tuple[object, ...]
    request: Request
    reliable: bool
    timers: TimerConfig = field(default_factory=TimerConfig)
    state: State = State.TERMINATED
    last_response: Response | None = None
    _deadlines: dict[str, float] = field(default_factory=dict)
    _intervals: dict[str, float] = field(default_factory=dict)

    def get_timer(self) -> float | None:
        """Earliest deadline, or None."""
        return min(self._deadlines.values()) if self._deadlines else None

    def deadlines(self) -> dict[str, float]:
        """A copy of the armed timers (name -> deadline), for tests and tracing."""
        return dict(self._deadlines)

    @property
    def terminated(self) -> bool:
        return self.state is State.TERMINATED

    def handle_timer(self, now: float) -> list[Action]:
        """Fire every timer whose deadline is <= now, earliest first."""
        out: list[Action] = []
        while self._deadlines and not self.terminated:
            name, deadline = min(self._deadlines.items(), key=lambda item: item[1])
            if deadline > now:
                break
            del self._deadlines[name]
            out += self._input(f"timer_{name}", now, None)
        return out

    def transport_error(self, now: float) -> list[Action]:
        return self._input("transport_error", now, None)

    # interpreter ---------------------------------------------------------
    def _input(self, name: str, now: float, message: Request | Response | None) -> list[Action]:
        step = TRANSITIONS[self.kind][self.state].get(name)
        if step is None:
            if name in USER_INPUTS:
                raise SipLocalError(f"{self.kind.value}: {name} not allowed in {self.state.value}")
            return []  # absorbed
        self.state = step.next_state
        out: list[Action] = []
        for effect in step.effects:
            out += self._effect(effect, now, message)
        if self.state is State.TERMINATED:
            self._deadlines.clear()
            out.append(Deliver(TxEvent("terminated", self.key)))
        return out

    def _start(self, name: str, now: float, duration: float) -> None:
        self._intervals[name] = duration
        self._deadlines[name] = now + duration

    def _effect(self, effect: str, now: float, message: Request | Response | None) -> list[Action]:
        t = self.timers
        verb, _, timer = effect.partition("_")
        if verb == "stop":
            self._deadlines.pop(timer, None)
            return []
        if effect == "start_A" or effect == "start_E" or effect == "start_G":
            if not self.reliable:
                self._start(timer, now, t.t1)
            return []
        if effect == "restart_A":
            self._start("A", now, self._intervals.get("A", t.t1) * 2)
            return []
        if effect in ("restart_E", "restart_G"):
            self._start(timer, now, min(self._intervals.get(timer, t.t1) * 2, t.t2))
            return []
        if effect == "restart_E_at_T2":
            self._start("E", now, t.t2)
            return []
        if effect in ("start_B", "start_F", "start_H", "start_L", "start_M"):
            self._start(timer, now, 64 * t.t1)
            return []
        if effect == "start_D":
            self._start("D", now, 0.0 if self.reliable else t.timer_d)
            return []
        if effect == "start_J":
            self._start("J", now, 0.0 if self.reliable else 64 * t.t1)
            return []
        if effect in ("start_I", "start_K"):
            self._start(timer, now, 0.0 if self.reliable else t.t4)
            return []
        if effect == "retransmit":
            return [Transmit(self.request)]
        if effect == "send":
            assert isinstance(message, Response)
            self.last_response = message
            return [Transmit(message)]
        if effect == "resend_response":
            return [Transmit(self.last_response)] if self.last_response is not None else []
        if effect == "deliver":
            kind = "ack" if isinstance(message, Request) else "response"
            return [Deliver(TxEvent(kind, self.key, message))]
        if effect == "send_ack":
            assert isinstance(message, Response)
            return [Transmit(make_ack_for_non_2xx(self.request, message))]
        if effect == "timeout":
            return [Deliver(TxEvent("timeout", self.key))]
        if effect == "transport_error":
            return [Deliver(TxEvent("transport_error", self.key))]
        raise AssertionError(f"unknown effect {effect}")  # pragma: no cover - table typo


class ClientTransaction(Transaction):
    """INVITE or non-INVITE client transaction for ``request`` (not ACK)."""

    def __init__(self, request: Request, *, reliable: bool, timers: TimerConfig | None = None) -> None:
        if request.method == "ACK":
            raise SipLocalError("ACK has no client transaction")
        branch = request.top_via().branch
        if branch is None or not branch.startswith(BRANCH_MAGIC):
            raise SipLocalError("our requests carry an RFC 3261 branch")
        kind = Kind.INVITE_CLIENT if request.method == "INVITE" else Kind.NON_INVITE_CLIENT
        super().__init__(kind, client_key(branch, request.method), request, reliable, timers or TimerConfig())

    def start(self, now: float) -> list[Action]:
        """Send the request and arm A+B (INVITE) or E+F (non-INVITE)."""
        if self.state is not State.TERMINATED or self._deadlines:
            raise SipLocalError("transaction already started")
        self.state = INITIAL_STATE[self.kind]
        if self.kind is Kind.INVITE_CLIENT:
            self._effect("start_A", now, None)
            self._effect("start_B", now, None)
        else:
            self._effect("start_E", now, None)
            self._effect("start_F", now, None)
        return [Transmit(self.request)]

    def receive_response(self, response: Response, now: float) -> list[Action]:
        if 100 <= response.status < 200:
            name = "1xx"
        elif response.status < 300:
            name = "2xx"
        else:
            name = "3xx-6xx"
        return self._input(name, now, response)


class ServerTransaction(Transaction):
    """INVITE or non-INVITE server transaction created by ``request``."""

    def __init__(self, request: Request, *, reliable: bool, timers: TimerConfig | None = None,
                 key: tuple[object, ...] | None = None) -> None:
        """``key`` overrides :func:`server_key` (the endpoint computes it from
        the request as received, before stamping ``received`` on the Via)."""
        if request.method == "ACK":
            raise SipLocalError("ACK creates no server transaction")
        kind = Kind.INVITE_SERVER if request.method == "INVITE" else Kind.NON_INVITE_SERVER
        super().__init__(kind, key or server_key(request), request, reliable, timers or TimerConfig())
        self.state = INITIAL_STATE[kind]

    def receive_request(self, request: Request, now: float) -> list[Action]:
        """A retransmission of the request, or the ACK (INVITE only)."""
        return self._input("ack" if request.method == "ACK" else "request", now, request)

    def send_response(self, response: Response, now: float) -> list[Action]:
        """The transaction user's response; raises SipLocalError when the
        state does not allow it (e.g. a second final response)."""
        if 100 <= response.status < 200:
            name = "send_1xx"
        elif response.status < 300:
            name = "send_2xx"
        else:
            name = "send_3xx-6xx"
        return self._input(name, now, response)
