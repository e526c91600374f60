"""What the PBX needs from the case system, as a protocol (no Django here).

The engine (``hotline.pbx``) never imports Django.  Everything it needs to know
about users, extensions and trunks, and everything it reports back (call
detail records, call events for the agent's screen-pop), goes through one
object implementing :class:`PbxDirectory`:

* ``hotline.telephony.store.DjangoDirectory`` — the real one, reading and
  writing the case system's database (used by ``hotline pbx`` and
  ``hotline serve``);
* :class:`MemoryDirectory` — an in-memory one for the engine's own tests and
  benchmarks.

Passwords are never handed to the engine: an account carries its digest HA1
per algorithm for the configured realm (``HOTLINE_SIP_REALM``), which is all a
registrar needs.  A trunk's outbound credentials are the exception: a carrier
challenges *us*, so the engine needs that password itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

__all__ = [
    "CallEvent",
    "CallRecord",
    "MemoryDirectory",
    "PbxDirectory",
    "SipAccount",
    "Trunk",
]


@dataclass(frozen=True)
class SipAccount:
    """One agent's SIP identity: the extension number is the digest username."""

    username: str
    # {"MD5": md5("user:realm:password"), "SHA-256": sha256(...)} for the realm.
    ha1: Mapping[str, str]
    display_name: str = ""
    user_id: int | None = None
    max_bindings: int = 5


@dataclass(frozen=True)
class Trunk:
    """A SIP trunk to a carrier or gateway."""

    name: str
    host: str
    port: int = 5060
    transport: Literal["udp", "tcp"] = "udp"
    # Outbound authentication towards the carrier (empty: none).
    username: str = ""
    password: str = ""
    # Register to the carrier (True) or IP-authenticated (False).
    register: bool = False
    register_expires: int = 3600
    # Sources allowed to send us calls from this trunk: addresses or CIDR networks.
    allowed_sources: tuple[str, ...] = ()
    # Dialled numbers starting with this prefix go out through this trunk,
    # prefix removed ("" = this trunk takes no outbound calls).
    outbound_prefix: str = ""
    # The number presented to the carrier on outbound calls ("" = the extension's).
    caller_id: str = ""
    # Inbound DID -> extension routing for calls arriving on this trunk.
    did_routes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallRecord:
    """A call detail record (CDR), written once when the call ends."""

    call_id: str
    direction: Literal["inbound", "outbound", "internal"]
    caller: str
    callee: str
    offered_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    # Who hung up: "caller", "callee" or "system" (timeout, shutdown, error).
    hangup_side: Literal["caller", "callee", "system"]
    hangup_cause: str = ""
    trunk: str = ""
    # The extension of the agent who took or placed the call ("" = none answered).
    agent_extension: str = ""
    # WAV path relative to the media root ("" = not recorded).
    recording_path: str = ""

    @property
    def duration_seconds(self) -> float:
        if self.answered_at is None:
            return 0.0
        return max(0.0, (self.ended_at - self.answered_at).total_seconds())


@dataclass(frozen=True)
class CallEvent:
    """A live event for the agent's desk (screen-pop): sent as it happens."""

    call_id: str
    kind: Literal["ringing", "answered", "ended"]
    extension: str
    caller: str
    callee: str
    at: datetime


class PbxDirectory(Protocol):
    async def account(self, username: str) -> SipAccount | None:
        """The account whose extension is ``username``, or None (unknown or disabled)."""

    async def trunks(self) -> Sequence[Trunk]:
        """Every enabled trunk (read at start and when :meth:`changed` says so)."""

    async def record_call(self, record: CallRecord) -> None:
        """Store a CDR. Must not raise for a duplicate ``call_id`` (idempotent)."""

    async def call_event(self, event: CallEvent) -> None:
        """Deliver a live call event to the agent's desk; best effort, never raises."""


class MemoryDirectory:
    """An in-memory :class:`PbxDirectory` for the engine's tests and benchmarks."""

    def __init__(
        self,
        accounts: Sequence[SipAccount] = (),
        trunks: Sequence[Trunk] = (),
    ) -> None:
        self.accounts = {a.username: a for a in accounts}
        self.trunk_list = list(trunks)
        self.records: list[CallRecord] = []
        self.events: list[CallEvent] = []

    async def account(self, username: str) -> SipAccount | None:
        return self.accounts.get(username)

    async def trunks(self) -> Sequence[Trunk]:
        return list(self.trunk_list)

    async def record_call(self, record: CallRecord) -> None:
        if all(r.call_id != record.call_id for r in self.records):
            self.records.append(record)

    async def call_event(self, event: CallEvent) -> None:
        self.events.append(event)
