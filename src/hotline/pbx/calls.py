"""B2BUA call control: two SIP dialogs joined by one media bridge.

An INVITE (the *A leg*: from a trunk, or from an authenticated extension)
becomes one outgoing INVITE per target (*B legs*: every registered device
of the called extension, or the trunk for an outbound number).  Each leg
has its own RTP endpoint from the :class:`~hotline.pbx.engine.MediaEngine`
and its own :class:`~hotline.media.sdp.SdpSession`:

* the A leg's offer is answered locally (its codec chosen first), and the
  B legs are offered that codec first, so when the phones agree the bridge
  relays payloads untouched (PCMU/PCMA transcoding otherwise);
* 180/183 from a B leg → 180 to A (once); the first 2xx wins: it is ACKed,
  the other forks are CANCELled (a late 2xx is ACKed and BYEd), A gets its
  200 with our answer, and the two RTP legs are bridged with a recording;
* all forks failing → one final response to A (486 busy if any fork was
  busy, else 480/404/408/the fork's status);
* CANCEL from A → CANCEL every fork; BYE from either side → BYE the other;
  a media timeout or an unacknowledged 200 → BYE both;
* re-INVITE with ``sendonly``/``inactive`` → the bridge holds, and the other
  side is re-INVITEd ``sendonly`` (resumed with ``sendrecv``);
* when the call ends, the CDR goes to ``directory.record_call`` after the
  recording is on disk, and ``ringing``/``answered``/``ended`` events to
  ``directory.call_event`` for the agent's extension.  Directory calls run
  as tasks; a failing directory never breaks the call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import random
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hotline.media.dtmf import DtmfDigit
from hotline.media.errors import MediaError
from hotline.media.sdp import PCMA as SDP_PCMA
from hotline.media.sdp import PCMU as SDP_PCMU
from hotline.media.sdp import NegotiatedAudio, SdpSession, parse_sdp
from hotline.sip.dialog import Dialog, DialogState
from hotline.sip.digest import authorization, choose_challenge
from hotline.sip.endpoint import Address as NetAddr
from hotline.sip.endpoint import TxKey
from hotline.sip.errors import SipError
from hotline.sip.headers import Address, Headers
from hotline.sip.message import Request, Response, response_for
from hotline.sip.uri import SipUri, Uri, parse_uri

from hotline.pbx.bridge import Bridge
from hotline.pbx.directory import CallEvent, CallRecord, Trunk
from hotline.pbx.engine import CapacityExceeded
from hotline.pbx.ports import PortsExhausted
from hotline.pbx.rtp_endpoint import Codec, RtpEndpoint

if TYPE_CHECKING:
    from hotline.pbx.server import PbxServer
    from hotline.pbx.transport import SipChannel

__all__ = ["Call", "CallManager", "Leg", "codec_from_negotiated"]

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, REFER, NOTIFY"
_rng = random.SystemRandom()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def codec_from_negotiated(neg: NegotiatedAudio) -> Codec:
    return Codec(
        neg.codec.encoding.upper(), neg.codec.payload_type, neg.codec.clock_rate,
        ptime_ms=neg.ptime if neg.ptime in (10, 20, 30, 40) else 20, dtmf_payload_type=neg.telephone_event,
    )


@dataclass(eq=False)
class Leg:
    call: Call
    role: Literal["a", "b", "c"]  # caller, callee (agent), added party (three-way)
    channel: SipChannel
    addr: NetAddr
    rtp: RtpEndpoint
    sdp: SdpSession
    local_tag: str
    invite: Request
    key: TxKey | None = None
    dialog: Dialog | None = None
    ack: Request | None = None
    extension: str = ""
    trunk: Trunk | None = None
    status: int = 0
    auth_tried: bool = False
    remote_held: bool = False
    we_held: bool = False
    pending_reinvite: bool = False
    transfer_of: Leg | None = None  # a transfer target's leg: the leg it will replace
    refer_dialog_leg: Leg | None = None
    sdp_refused: bool = False  # its 2xx carried an SDP answer we could not use (BYE sent)


@dataclass(eq=False)
class Call:
    id: str
    direction: Literal["inbound", "outbound", "internal"]
    caller: str
    callee: str
    offered_at: dt.datetime
    a: Leg | None = None
    forks: list[Leg] = field(default_factory=list)
    b: Leg | None = None
    bridge: Bridge | None = None
    trunk: str = ""
    agent_extension: str = ""
    answered_at: dt.datetime | None = None
    ended: bool = False
    ringing_sent: bool = False
    recording: Path | None = None
    a_answer: bytes = b""
    a_neg: NegotiatedAudio | None = None
    fork_statuses: list[int] = field(default_factory=list)
    digits: list[tuple[str, str]] = field(default_factory=list)  # (leg role, digit)
    transfer_forks: list[Leg] = field(default_factory=list)
    transfers: int = 0
    parties: list[Leg] = field(default_factory=list)
    party_forks: list[Leg] = field(default_factory=list)
    ring_timer: asyncio.TimerHandle | None = None
    feature: str = ""  # DTMF feature code being typed by the agent ("*3" + extension + "#")
    counters: dict[str, Any] = field(default_factory=dict)

    def other(self, leg: Leg) -> Leg | None:
        return self.b if leg is self.a else self.a


class CallManager:
    def __init__(self, server: PbxServer, history: int = 100) -> None:
        self.server = server
        self.config = server.config
        self.calls: dict[str, Call] = {}
        # (Call-ID, our tag) -> leg, for requests inside a dialog
        self.legs: dict[tuple[str, str], Leg] = {}
        self.by_invite_key: dict[TxKey, Leg] = {}
        self.started = 0
        self.answered = 0
        self.failed = 0
        self.rejected_busy = 0
        self.directory_errors = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.history: deque[Call] = deque(maxlen=history)
        # an unanswered call is given up after this long (RFC 3261 §16.6 Timer C is 3 min)
        self.ring_timeout = 120.0

    # -- helpers -------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.directory_errors += 1
            log.error("call task failed", exc_info=task.exception())

    async def wait_tasks(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def event(self, call: Call, kind: Literal["ringing", "answered", "ended"], extension: str) -> None:
        if not extension:
            return
        ev = CallEvent(call.id, kind, extension, call.caller, call.callee, utcnow())
        self.spawn(self._deliver_event(ev))

    async def _deliver_event(self, ev: CallEvent) -> None:
        try:
            await self.server.directory.call_event(ev)
        except Exception:
            self.directory_errors += 1
            log.exception("directory.call_event failed (ignored)")

    def _contact(self, channel: SipChannel) -> Address:
        ep = channel.endpoint
        params: tuple[tuple[str, str | None], ...] = (("transport", "tcp"),) if ep.reliable else ()
        return Address(SipUri(host=ep.local_host, user="hotline", port=ep.local_port, params=params))

    def _new_sdp(self, rtp: RtpEndpoint, codecs: tuple[Any, ...] = (SDP_PCMU, SDP_PCMA)) -> SdpSession:
        host = self.config.advertised_host or self.config.rtp_host
        return SdpSession(host, rtp.port, session_id=_rng.getrandbits(31), codecs=codecs)

    async def _open_rtp(self, name: str) -> RtpEndpoint:
        return await self.server.engine.open_endpoint(name=name)

    def _close_rtp(self, rtp: RtpEndpoint) -> None:
        if not rtp.closed:
            self.server.engine.close_endpoint(rtp)

    def _respond(self, leg: Leg, status: int, *, body: bytes = b"", extra: tuple[tuple[str, str], ...] = ()) -> None:
        if leg.key is None:
            return
        headers = extra
        if body:
            headers = headers + (("Content-Type", "application/sdp"),)
        if 101 <= status < 300:
            headers = (("Contact", str(self._contact(leg.channel))), ("Allow", ALLOW)) + headers
        leg.channel.respond(leg.key, response_for(leg.invite, status, to_tag=leg.local_tag, extra=headers, body=body))

    # -- new calls -----------------------------------------------------------------------------
    async def incoming_invite(self, channel: SipChannel, request: Request, addr: NetAddr, key: TxKey) -> None:
        server = self.server
        loop = asyncio.get_running_loop()

        def reject(status: int, extra: tuple[tuple[str, str], ...] = ()) -> None:
            channel.respond(key, response_for(request, status, to_tag=channel.endpoint.new_tag(), extra=extra))

        uri = request.uri
        dialled = uri.user if isinstance(uri, SipUri) and uri.user else ""
        trunk = server.trunk_for_source(addr[0])
        direction: Literal["inbound", "outbound", "internal"]
        caller_uri = request.from_addr().uri
        caller = (caller_uri.user or "") if isinstance(caller_uri, SipUri) else str(caller_uri)
        out_trunk: Trunk | None = None
        if trunk is not None:
            direction = "inbound"
            to_uri = request.to_addr().uri
            did = dialled or ((to_uri.user or "") if isinstance(to_uri, SipUri) else "")
            callee = trunk.did_routes.get(did) or trunk.did_routes.get((to_uri.user or "") if isinstance(to_uri, SipUri) else "", "")
            if not callee:
                reject(404)
                return
        else:
            account, failure = await server.auth.check(request, addr, loop.time(), proxy=True)
            if account is None:
                assert failure is not None
                status, header, values = failure
                reject(status, tuple((header, v) for v in values))
                return
            caller = account.username
            callee = dialled
            out_trunk = server.trunk_for_number(callee)
            direction = "outbound" if out_trunk is not None else "internal"
        if len(self.calls) >= self.config.max_calls:
            self.rejected_busy += 1
            reject(503, (("Retry-After", "5"),))
            return
        # SDP offer
        if not request.body:
            reject(488, (("Warning", '399 hotline "an SDP offer is required"'),))
            return
        try:
            offer = parse_sdp(request.body)
        except MediaError:
            reject(400, (("Warning", '399 hotline "malformed SDP"'),))
            return
        targets: list[tuple[Uri, NetAddr, SipChannel, str, Trunk | None]] = []
        if out_trunk is not None:
            number = callee[len(out_trunk.outbound_prefix):]
            try:
                infos = await loop.getaddrinfo(out_trunk.host, out_trunk.port, type=2)
                trunk_addr = (str(infos[0][4][0]), int(infos[0][4][1]))
            except (OSError, IndexError):
                reject(503)
                return
            trunk_channel = server.channel_for(out_trunk.transport)
            if trunk_channel is None:
                reject(503)
                return
            targets.append((SipUri(host=out_trunk.host, user=number, port=out_trunk.port), trunk_addr,
                            trunk_channel, "", out_trunk))
        else:
            bindings = server.registrar.lookup(callee, loop.time())
            if not bindings:
                exists = await server.account_exists(callee)
                reject(480 if exists else 404)
                return
            for b in bindings:
                targets.append((b.contact.uri, b.source, b.channel, b.aor, None))
        call_id = request.call_id()
        call = Call(id=call_id, direction=direction, caller=caller, callee=callee, offered_at=utcnow(),
                    trunk=(trunk.name if trunk else out_trunk.name if out_trunk else ""))
        if not channel.endpoint.awaiting_final(key):
            self._abandoned(call)  # CANCELled (answered 487) while we were looking things up
            return
        if call_id in self.calls:
            reject(482)  # a loop or a second INVITE with the same Call-ID
            return
        try:
            a_rtp = await self._open_rtp(f"{call_id}:a")
        except (CapacityExceeded, PortsExhausted):
            self.rejected_busy += 1
            reject(503, (("Retry-After", "5"),))
            return
        if not channel.endpoint.awaiting_final(key):
            self._close_rtp(a_rtp)
            self._abandoned(call)
            return
        a_sdp = self._new_sdp(a_rtp)
        try:
            answer, neg = a_sdp.create_answer(offer)
            a_rtp.set_codec(codec_from_negotiated(neg))
        except (MediaError, ValueError):
            self._close_rtp(a_rtp)
            reject(488)
            return
        if not neg.remote_hold:
            a_rtp.remote = (neg.remote_address, neg.remote_port)
            a_rtp.remote_rtcp = (neg.remote_rtcp_address, neg.remote_rtcp_port)
        a_leg = Leg(call, "a", channel, addr, a_rtp, a_sdp, channel.endpoint.new_tag(), request, key)
        call.a = a_leg
        call.a_answer = answer.to_bytes()
        call.a_neg = neg
        self.calls[call_id] = call
        self.by_invite_key[key] = a_leg
        self.legs[(call_id, a_leg.local_tag)] = a_leg
        self.started += 1
        first = SDP_PCMA if neg.codec.encoding.upper() == "PCMA" else SDP_PCMU
        second = SDP_PCMU if first is SDP_PCMA else SDP_PCMA
        for uri_b, addr_b, channel_b, aor, t in targets:
            try:
                rtp = await self._open_rtp(f"{call_id}:b:{aor or 'trunk'}")
            except (CapacityExceeded, PortsExhausted):
                continue
            if call.ended:
                self._close_rtp(rtp)
                return
            sdp = self._new_sdp(rtp, (first, second))
            self._send_fork(call, uri_b, addr_b, channel_b, aor, t, rtp, sdp)
        if not call.forks and not call.ended:
            self._respond(a_leg, 503)
            self._finish(call, "system", "no media ports")
        elif not call.ended:
            call.ring_timer = asyncio.get_running_loop().call_later(self.ring_timeout, self._no_answer, call)

    def _abandoned(self, call: Call) -> None:
        """The caller gave up before the call was set up: still a CDR (an abandoned call)."""
        now = utcnow()
        self.spawn(self._store(CallRecord(
            call_id=call.id, direction=call.direction, caller=call.caller, callee=call.callee,
            offered_at=call.offered_at, answered_at=None, ended_at=now, hangup_side="caller",
            hangup_cause="cancelled", trunk=call.trunk,
        ), None))

    def _no_answer(self, call: Call) -> None:
        """Nobody answered within ``ring_timeout``: CANCEL the forks, 480 to the caller."""
        call.ring_timer = None
        if call.ended or call.b is not None:
            return
        if call.a is not None:
            self._respond(call.a, 480, extra=(("Reason", 'SIP;cause=480;text="no answer"'),))
        self.failed += 1
        self._finish(call, "system", "no answer")

    def _send_fork(self, call: Call, uri: Uri, addr: NetAddr, channel: SipChannel, aor: str, trunk: Trunk | None,
                   rtp: RtpEndpoint, sdp: SdpSession, transfer_of: Leg | None = None, party: bool = False) -> None:
        assert call.a is not None
        ep = channel.endpoint
        tag = ep.new_tag()
        host = ep.local_host
        from_user = call.caller
        display = call.a.invite.from_addr().display_name
        if trunk is not None and trunk.caller_id:
            from_user = trunk.caller_id
        from_host = trunk.host if trunk is not None else host
        to_host = trunk.host if trunk is not None else host
        to_user = uri.user if isinstance(uri, SipUri) and uri.user else call.callee
        frm = Address(SipUri(host=from_host, user=from_user or "anonymous"), display or None, (("tag", tag),))
        to = Address(SipUri(host=to_host, user=to_user))
        offer = sdp.create_offer().to_bytes()
        headers = Headers([
            ("Via", str(ep.via())), ("Max-Forwards", "70"), ("From", str(frm)), ("To", str(to)),
            ("Call-ID", ep.new_call_id()), ("CSeq", "1 INVITE"), ("Contact", str(self._contact(channel))),
            ("Allow", ALLOW), ("Content-Type", "application/sdp"),
        ])
        invite = Request.build("INVITE", uri, headers, offer)
        leg = Leg(call, "b", channel, addr, rtp, sdp, tag, invite, extension=aor, trunk=trunk, transfer_of=transfer_of)
        if transfer_of is not None:
            leg.role = transfer_of.role
            call.transfer_forks.append(leg)
        elif party:
            leg.role = "c"
            call.party_forks.append(leg)
        else:
            call.forks.append(leg)
        self._send_invite(leg)

    def _send_invite(self, leg: Leg) -> None:
        def on_response(response: Response | None) -> None:
            self._fork_response(leg, response)

        leg.key = leg.channel.request(leg.invite, leg.addr, on_response)
        self.by_invite_key[leg.key] = leg

    # -- B leg responses ---------------------------------------------------------------------------
    def _fork_response(self, leg: Leg, response: Response | None) -> None:
        call = leg.call
        if leg.transfer_of is not None:
            self._transfer_response(leg, response)
            return
        if leg.role == "c":
            self._party_response(leg, response)
            return
        if response is None:
            self._fork_failed(leg, 408)
            return
        status = response.status
        if status < 200:
            if status > 100 and not call.ended and call.b is None and call.a is not None and not call.ringing_sent:
                call.ringing_sent = True
                self._respond(call.a, 180)
                self.event(call, "ringing", self._agent_of(call, leg))
            return
        if status < 300:
            self._fork_answered(leg, response)
            return
        if status in (401, 407) and leg.trunk is not None and leg.trunk.username and not leg.auth_tried and not call.ended:
            self._retry_with_auth(leg, response)
            return
        self._fork_failed(leg, status)

    def _agent_of(self, call: Call, leg: Leg | None) -> str:
        if call.direction == "outbound":
            return call.caller
        return leg.extension if leg is not None else call.callee

    def _retry_with_auth(self, leg: Leg, response: Response) -> None:
        trunk = leg.trunk
        assert trunk is not None
        header = "Proxy-Authenticate" if response.status == 407 else "WWW-Authenticate"
        challenge = choose_challenge(response.headers.get_all(header))
        if challenge is None:
            self._fork_failed(leg, response.status)
            return
        leg.auth_tried = True
        self.by_invite_key.pop(leg.key, None) if leg.key is not None else None
        value = authorization(challenge, method="INVITE", uri=str(leg.invite.uri), username=trunk.username,
                              password=trunk.password, cnonce=f"{_rng.getrandbits(64):016x}")
        auth_name = "Proxy-Authorization" if response.status == 407 else "Authorization"
        cseq = leg.invite.cseq().number + 1
        headers = leg.invite.headers.with_replaced("Via", str(leg.channel.endpoint.via()))
        headers = headers.with_replaced("CSeq", f"{cseq} INVITE").with_added(auth_name, value)
        leg.invite = leg.invite.replace(headers=headers)
        self._send_invite(leg)

    def _fork_failed(self, leg: Leg, status: int) -> None:
        call = leg.call
        leg.status = status
        if leg.key is not None:
            self.by_invite_key.pop(leg.key, None)
        self._close_rtp(leg.rtp)
        if leg in call.forks:
            call.forks.remove(leg)
        if call.b is leg:
            return  # an established leg's re-INVITE failed; not a fork
        call.fork_statuses.append(status)
        if call.forks or call.b is not None or call.ended:
            return
        statuses = call.fork_statuses
        if 486 in statuses or 600 in statuses:
            final = 486
        elif any(s == 404 for s in statuses) and all(s in (404, 408, 480) for s in statuses):
            final = 480
        elif statuses and all(s == 408 for s in statuses):
            final = 408
        elif statuses and 400 <= statuses[0] < 700 and statuses[0] not in (401, 407, 487):
            final = statuses[0]
        else:
            final = 480
        if call.a is not None:
            self._respond(call.a, final)
        self.failed += 1
        self._finish(call, "callee", f"{final}")

    def _fork_answered(self, leg: Leg, response: Response) -> None:
        call = leg.call
        channel = leg.channel
        try:
            dialog = Dialog.from_uac(leg.invite, response, local_contact=self._contact(channel))
        except SipError:
            dialog = None
        if call.b is leg:
            # retransmitted 2xx (or the answer to a re-INVITE): ACK again
            if leg.ack is not None:
                channel.ack(leg.ack, leg.addr)
            return
        if dialog is None:
            return
        ack = dialog.create_ack(leg.invite.cseq().number, via=channel.endpoint.via())
        channel.ack(ack, leg.addr)
        if call.ended or call.b is not None or leg not in call.forks:
            # lost the race: hang up this device
            bye = dialog.create_bye(via=channel.endpoint.via())
            channel.request(bye, leg.addr)
            self._close_rtp(leg.rtp)
            if leg in call.forks:
                call.forks.remove(leg)
            return
        leg.dialog = dialog
        leg.ack = ack
        call.b = leg
        call.forks.remove(leg)
        self.legs[(dialog.call_id, dialog.local_tag)] = leg
        for other in list(call.forks):
            if other.key is not None:
                other.channel.cancel(other.key)
                self.by_invite_key.pop(other.key, None)
                other.key = None
        if not self._apply_answer(leg, response):
            log.warning("%s: unusable SDP answer from %s", call.id, leg.addr)
            self._send_bye(leg)
            if call.a is not None:
                self._respond(call.a, 488)
            self._finish(call, "system", "bad SDP answer")
            return
        a = call.a
        assert a is not None
        call.answered_at = utcnow()
        call.agent_extension = self._agent_of(call, leg)
        self.answered += 1
        try:
            a.dialog = Dialog.from_uas(a.invite, local_tag=a.local_tag, local_contact=self._contact(a.channel),
                                       confirmed=True)
        except SipError:
            a.dialog = None
        self._respond(a, 200, body=call.a_answer)
        record_to = None
        if self.config.record_calls:
            record_to = self.recording_file(call)
        try:
            call.bridge = self.server.engine.bridge(
                a.rtp, leg.rtp, record_to=record_to, name=call.id,
                on_end=self._bridge_end_callback(call),
                on_dtmf=self._dtmf_callback(call),
            )
            call.recording = record_to
        except (CapacityExceeded, ValueError):
            log.warning("%s: cannot bridge (capacity)", call.id)
            self.hangup(call, None, "system", "capacity")
            return
        if not call.ringing_sent:
            call.ringing_sent = True
            self.event(call, "ringing", call.agent_extension)
        self.event(call, "answered", call.agent_extension)

    def recording_file(self, call: Call) -> Path:
        started = call.offered_at
        safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in call.id).strip(".") or "call"
        return self.config.recordings_dir / f"{started:%Y}" / f"{started:%m}" / f"{started:%d}" / f"{safe}.wav"

    # -- requests from the peers -------------------------------------------------------------------
    def cancel_received(self, key: TxKey) -> None:
        leg = self.by_invite_key.get(key)
        if leg is None or leg.role != "a":
            return
        call = leg.call
        self.by_invite_key.pop(key, None)
        leg.key = None  # the endpoint already answered 487
        self._finish(call, "caller", "cancelled")  # CANCELs every fork

    def in_dialog(self, channel: SipChannel, request: Request, addr: NetAddr, key: TxKey) -> bool:
        """A request with a To tag: route it to its leg; False when no dialog matches."""
        to_tag = request.to_addr().tag
        leg = self.legs.get((request.call_id(), to_tag or ""))
        if leg is None or leg.dialog is None:
            return False
        rejection = leg.dialog.receive_request(request)
        if rejection is not None:
            channel.respond(key, response_for(request, rejection.status))
            return True
        call = leg.call
        method = request.method
        if method == "BYE":
            channel.respond(key, response_for(request, 200))
            if leg.role == "c":
                self._drop_party(call, leg)
            else:
                self.hangup(call, leg, "caller" if leg.role == "a" else "callee", "bye")
        elif method == "INVITE":
            self._reinvite(leg, request, key)
        elif method == "REFER":
            self._refer(leg, request, key)
        elif method == "INFO":
            channel.respond(key, response_for(request, 200))
            self._info_dtmf(leg, request)
        elif method == "NOTIFY":
            channel.respond(key, response_for(request, 200))
        elif method == "OPTIONS":
            channel.respond(key, response_for(request, 200, extra=(("Allow", ALLOW),)))
        else:
            channel.respond(key, response_for(request, 501))
        return True

    def ack_received(self, request: Request) -> None:
        leg = self.legs.get((request.call_id(), request.to_addr().tag or ""))
        if leg is not None and leg.dialog is not None:
            leg.dialog.confirm()

    def ack_timeout(self, key: TxKey) -> None:
        leg = self.by_invite_key.get(key)
        if leg is not None and not leg.call.ended:
            log.info("%s: 200 never acknowledged; ending the call", leg.call.id)
            self.hangup(leg.call, None, "system", "no ACK")

    def _reinvite(self, leg: Leg, request: Request, key: TxKey) -> None:
        call = leg.call
        channel = leg.channel
        if leg.pending_reinvite or call.bridge is None:
            channel.respond(key, response_for(request, 491))
            return
        if not request.body:
            channel.respond(key, response_for(request, 488))
            return
        try:
            answer, neg = leg.sdp.create_answer(parse_sdp(request.body))
        except (MediaError, ValueError):
            channel.respond(key, response_for(request, 488))
            return
        if not neg.remote_hold:
            leg.rtp.remote = (neg.remote_address, neg.remote_port)
        extra = (("Contact", str(self._contact(channel))), ("Content-Type", "application/sdp"))
        channel.respond(key, response_for(request, 200, extra=extra, body=answer.to_bytes()))
        other = call.other(leg)
        if neg.remote_hold and not leg.remote_held:
            leg.remote_held = True
            call.bridge.hold()
            if other is not None:
                self._offer(other, "sendonly")
        elif not neg.remote_hold and leg.remote_held:
            leg.remote_held = False
            call.bridge.resume()
            if other is not None:
                self._offer(other, "sendrecv")

    def _offer(self, leg: Leg, direction: Literal["sendrecv", "sendonly", "recvonly", "inactive"]) -> None:
        """Send a re-INVITE to ``leg`` (hold/resume relay)."""
        if leg.dialog is None or leg.dialog.state is not DialogState.CONFIRMED:
            return
        channel = leg.channel
        body = leg.sdp.create_offer(direction).to_bytes()
        request = leg.dialog.create_request("INVITE", via=channel.endpoint.via(), body=body,
                                            content_type="application/sdp")
        leg.pending_reinvite = True
        leg.we_held = direction != "sendrecv"

        def answered(response: Response | None, leg: Leg = leg, request: Request = request) -> None:
            if response is None:
                leg.pending_reinvite = False
                return
            if response.status < 200:
                return
            leg.pending_reinvite = False
            if leg.dialog is None:
                return
            if response.status < 300:
                ack = leg.dialog.create_ack(request.cseq().number, via=channel.endpoint.via())
                channel.ack(ack, leg.addr)
                try:
                    leg.sdp.process_answer(parse_sdp(response.body))
                except (MediaError, ValueError):
                    pass

        channel.request(request, leg.addr, answered)

    # -- blind transfer (RFC 3515) ------------------------------------------------------------------
    def _notify(self, leg: Leg, status_line: str, *, final: bool) -> None:
        """NOTIFY the transferor of the transfer's progress (message/sipfrag)."""
        dialog = leg.dialog
        if dialog is None or dialog.state is DialogState.TERMINATED:
            return
        state = "terminated;reason=noresource" if final else "active;expires=60"
        request = dialog.create_request(
            "NOTIFY", via=leg.channel.endpoint.via(), body=status_line.encode(),
            content_type="message/sipfrag;version=2.0",
            extra_headers=(("Event", "refer"), ("Subscription-State", state)),
        )
        leg.channel.request(request, leg.addr)

    def _refer(self, leg: Leg, request: Request, key: TxKey) -> None:
        call = leg.call
        channel = leg.channel
        refer_to = request.headers.get("Refer-To")
        target = None
        if refer_to:
            try:
                from hotline.sip.headers import parse_address

                address = parse_address(refer_to, "Refer-To")
                target = address.uri if isinstance(address.uri, SipUri) else None
            except SipError:
                target = None
        if target is None or not target.user:
            channel.respond(key, response_for(request, 400, extra=(("Warning", '399 hotline "bad Refer-To"'),)))
            return
        replaces = next((v for name, v in target.headers if name.lower() == "replaces"), None)
        if replaces is not None:
            self._attended_transfer(leg, request, key, replaces)
            return
        if call.bridge is None or call.transfer_forks or call.other(leg) is None:
            channel.respond(key, response_for(request, 491))
            return
        channel.respond(key, response_for(request, 202, extra=(("Contact", str(self._contact(channel))),)))
        self._notify(leg, "SIP/2.0 100 Trying", final=False)
        self.spawn(self._start_transfer(call, leg, target.user))

    def _attended_transfer(self, leg: Leg, request: Request, key: TxKey, replaces: str) -> None:
        """REFER with Refer-To ...?Replaces=<consultation dialog> (RFC 3891 via RFC 3515):
        join the transferee with the party of the transferor's consultation call."""
        from urllib.parse import unquote

        call = leg.call
        channel = leg.channel
        parts = unquote(replaces).split(";")
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        consult_leg = self.legs.get((parts[0], params.get("to-tag", "")))
        if (consult_leg is None or consult_leg.call is call or consult_leg.dialog is None
                or consult_leg.dialog.remote_tag != params.get("from-tag")):
            channel.respond(key, response_for(request, 481, extra=(("Warning", '399 hotline "no such dialog to replace"'),)))
            return
        consult = consult_leg.call
        target = consult.other(consult_leg)
        transferee = call.other(leg)
        if (target is None or transferee is None or call.bridge is None or consult.bridge is None
                or call.bridge.state == "ended" or consult.bridge.state == "ended"):
            channel.respond(key, response_for(request, 491))
            return
        channel.respond(key, response_for(request, 202, extra=(("Contact", str(self._contact(channel))),)))
        self._notify(leg, "SIP/2.0 100 Trying", final=False)
        # the target leaves the consultation call first: ending that bridge must not BYE it
        if consult.a is target:
            consult.a = None
        else:
            consult.b = None
        # media: the target's RTP leg leaves the consultation bridge and takes the transferor's place
        self.server.engine.move_party(consult.bridge, target.rtp, call.bridge, leg.rtp)
        target.call = call
        target.role = leg.role
        if leg is call.a:
            call.a = target
        else:
            call.b = target
        self.legs.pop((leg.invite.call_id(), leg.local_tag), None)
        if leg.key is not None:
            self.by_invite_key.pop(leg.key, None)
        if target.key is not None:
            self.by_invite_key.pop(target.key, None)
            target.key = None
        for party in (call.a, call.b):
            if party is not None:
                party.remote_held = False
        call.bridge.resume()
        if transferee.we_held:
            self._offer(transferee, "sendrecv")
        if target.we_held:
            self._offer(target, "sendrecv")
        call.transfers += 1
        self._notify(leg, "SIP/2.0 200 OK", final=True)
        self._send_bye(leg)
        # the consultation call ends for the transferor only (its bridge already ended)
        self.hangup(consult, None, "system", "transferred")
        previous = call.agent_extension
        if target.extension:
            call.agent_extension = target.extension
        if previous and previous != call.agent_extension:
            self.event(call, "ended", previous)
        self.event(call, "answered", call.agent_extension)

    async def _start_transfer(self, call: Call, transferor: Leg, extension: str) -> None:
        loop = asyncio.get_running_loop()
        bindings = self.server.registrar.lookup(extension, loop.time())
        out_trunk = self.server.trunk_for_number(extension) if not bindings else None
        if not bindings and out_trunk is None:
            self._notify(transferor, "SIP/2.0 404 Not Found", final=True)
            return
        other = call.other(transferor)
        assert other is not None
        first = SDP_PCMA if other.rtp.codec.name == "PCMA" else SDP_PCMU
        second = SDP_PCMU if first is SDP_PCMA else SDP_PCMA
        for b in bindings:
            if call.ended:
                return
            try:
                rtp = await self._open_rtp(f"{call.id}:xfer:{extension}")
            except (CapacityExceeded, PortsExhausted):
                continue
            sdp = self._new_sdp(rtp, (first, second))
            self._send_fork(call, b.contact.uri, b.source, b.channel, b.aor, None, rtp, sdp, transfer_of=transferor)
        if not call.transfer_forks:
            self._notify(transferor, "SIP/2.0 503 Service Unavailable", final=True)
        else:
            call.transfers += 1

    def _added_target_answered(self, leg: Leg, response: Response, forks: list[Leg]) -> Bridge | None:
        """A 2xx from one of ``forks`` (the targets of a transfer, or of a three-way call).

        ACKs it; if the call is still on and this is the first fork to answer, cancels
        and closes the other forks, applies the answer's SDP to the leg's media and
        returns the bridge the leg should join.  Returns ``None`` when the leg must not
        join: a malformed dialog (ignored), the call over or another fork first (BYE),
        or an unusable SDP answer (BYE, and ``leg.sdp_refused`` is set so a transfer
        can tell the transferor 488).
        """
        call, channel = leg.call, leg.channel
        try:
            dialog = Dialog.from_uac(leg.invite, response, local_contact=self._contact(channel))
        except SipError:
            return None
        ack = dialog.create_ack(leg.invite.cseq().number, via=channel.endpoint.via())
        channel.ack(ack, leg.addr)
        bridge = call.bridge
        if call.ended or leg not in forks or bridge is None or bridge.state == "ended":
            channel.request(dialog.create_bye(via=channel.endpoint.via()), leg.addr)
            self._close_rtp(leg.rtp)
            if leg in forks:
                forks.remove(leg)
            return None
        forks.remove(leg)
        for other in list(forks):
            if other.key is not None:
                other.channel.cancel(other.key)
                self.by_invite_key.pop(other.key, None)
                other.key = None
            self._close_rtp(other.rtp)
        forks.clear()
        if not self._apply_answer(leg, response):
            channel.request(dialog.create_bye(via=channel.endpoint.via()), leg.addr)
            self._close_rtp(leg.rtp)
            leg.sdp_refused = True
            return None
        leg.dialog = dialog
        leg.ack = ack
        return bridge

    @staticmethod
    def _apply_answer(leg: Leg, response: Response) -> bool:
        """Take the SDP answer of a 2xx for ``leg``'s offer: codec, and the peer's RTP and
        RTCP addresses unless it answered on hold. False when the answer is unusable."""
        try:
            neg = leg.sdp.process_answer(parse_sdp(response.body))
            leg.rtp.set_codec(codec_from_negotiated(neg))
        except (MediaError, ValueError):
            return False
        if not neg.remote_hold:
            leg.rtp.remote = (neg.remote_address, neg.remote_port)
            leg.rtp.remote_rtcp = (neg.remote_rtcp_address, neg.remote_rtcp_port)
        return True

    def _transfer_response(self, leg: Leg, response: Response | None) -> None:
        call = leg.call
        old = leg.transfer_of
        assert old is not None
        status = 408 if response is None else response.status
        if status < 200:
            if status == 180 and leg.extension and not call.ended:
                self.event(call, "ringing", leg.extension)
            return
        if status >= 300:
            if leg.key is not None:
                self.by_invite_key.pop(leg.key, None)
            self._close_rtp(leg.rtp)
            if leg in call.transfer_forks:
                call.transfer_forks.remove(leg)
                if not call.transfer_forks and not call.ended:
                    reason = "Busy Here" if status == 486 else "Temporarily Unavailable"
                    self._notify(old, f"SIP/2.0 {486 if status == 486 else 480} {reason}", final=True)
            return
        assert response is not None
        channel = leg.channel
        if call.b is leg or call.a is leg:
            if leg.ack is not None:
                channel.ack(leg.ack, leg.addr)
            return
        bridge = self._added_target_answered(leg, response, call.transfer_forks)
        if bridge is None:
            if leg.sdp_refused:
                self._notify(old, "SIP/2.0 488 Not Acceptable Here", final=True)
            return
        # swap the transferor's media leg for the target's: the transferee keeps its RTP socket
        self.server.engine.replace_party(bridge, old.rtp, leg.rtp)
        for party in (call.a, call.b):
            if party is not None:
                party.remote_held = False
        bridge.resume()
        transferee = call.other(old)
        if transferee is not None and transferee.we_held:
            self._offer(transferee, "sendrecv")
        if old is call.a:
            call.a = leg
        else:
            call.b = leg
        self.legs.pop((old.invite.call_id(), old.local_tag), None)
        if old.key is not None:
            self.by_invite_key.pop(old.key, None)
        assert leg.dialog is not None
        self.legs[(leg.dialog.call_id, leg.dialog.local_tag)] = leg
        self._notify(old, "SIP/2.0 200 OK", final=True)
        self._send_bye(old)
        previous = call.agent_extension
        if leg.extension:
            call.agent_extension = leg.extension
        if previous and previous != call.agent_extension:
            self.event(call, "ended", previous)
        self.event(call, "answered", call.agent_extension)

    def _info_dtmf(self, leg: Leg, request: Request) -> None:
        """DTMF sent as SIP INFO (application/dtmf-relay ``Signal=5`` or application/dtmf)."""
        ctype = (request.content_type() or "").split(";")[0].strip().lower()
        text = request.body.decode("utf-8", "replace")
        digit = ""
        if ctype == "application/dtmf-relay":
            for line in text.splitlines():
                name, _, value = line.partition("=")
                if name.strip().lower() == "signal":
                    digit = value.strip()
        elif ctype == "application/dtmf":
            digit = text.strip()
        digit = {"10": "*", "11": "#"}.get(digit, digit)
        if len(digit) != 1 or digit not in "0123456789*#ABCD":
            return
        call = leg.call
        call.digits.append(("a" if leg is call.a else "b", digit))
        if leg is call.b:
            self._feature_digit(call, digit)

    # -- three-way call (the agent types *3 <extension> #) ------------------------------------------
    def _feature_digit(self, call: Call, digit: str) -> None:
        if digit == "*":
            call.feature = "*"
            return
        if not call.feature:
            return
        call.feature += digit
        if len(call.feature) > 16:
            call.feature = ""
        elif digit == "#":
            code, call.feature = call.feature, ""
            if code.startswith("*3") and len(code) > 3:
                self.spawn(self._add_party(call, code[2:-1]))

    async def _add_party(self, call: Call, extension: str) -> None:
        loop = asyncio.get_running_loop()
        if call.ended or call.bridge is None or call.party_forks or len(call.parties) >= 3:
            return
        bindings = self.server.registrar.lookup(extension, loop.time())
        for b in bindings:
            try:
                rtp = await self._open_rtp(f"{call.id}:party:{extension}")
            except (CapacityExceeded, PortsExhausted):
                continue
            if call.ended:
                self._close_rtp(rtp)
                return
            self._send_fork(call, b.contact.uri, b.source, b.channel, b.aor, None, rtp, self._new_sdp(rtp),
                            party=True)

    def _party_response(self, leg: Leg, response: Response | None) -> None:
        call = leg.call
        status = 408 if response is None else response.status
        if status < 200:
            return
        if status >= 300 or response is None:
            if leg.key is not None:
                self.by_invite_key.pop(leg.key, None)
            self._close_rtp(leg.rtp)
            if leg in call.party_forks:
                call.party_forks.remove(leg)
            return
        channel = leg.channel
        if leg in call.parties:
            if leg.ack is not None:
                channel.ack(leg.ack, leg.addr)
            return
        bridge = self._added_target_answered(leg, response, call.party_forks)
        if bridge is None:
            return
        self.server.engine.add_party(bridge, leg.rtp)
        call.parties.append(leg)
        assert leg.dialog is not None
        self.legs[(leg.dialog.call_id, leg.dialog.local_tag)] = leg
        self.event(call, "answered", leg.extension)

    def _drop_party(self, call: Call, leg: Leg) -> None:
        if leg in call.parties:
            call.parties.remove(leg)
            if call.bridge is not None and call.bridge.state != "ended" and leg.rtp in call.bridge.legs:
                self.server.engine.remove_party(call.bridge, leg.rtp)
        self._close_rtp(leg.rtp)
        self.legs.pop((leg.invite.call_id(), leg.local_tag), None)
        self.event(call, "ended", leg.extension)

    # -- ending -----------------------------------------------------------------------------------
    def _send_bye(self, leg: Leg) -> None:
        dialog = leg.dialog
        if dialog is None or dialog.state is DialogState.TERMINATED:
            return
        try:
            bye = dialog.create_bye(via=leg.channel.endpoint.via())
        except SipError:
            return
        dialog.state = DialogState.TERMINATED
        leg.channel.request(bye, leg.addr)

    def hangup(self, call: Call, by: Leg | None, side: Literal["caller", "callee", "system"], cause: str) -> None:
        if call.ended:
            return
        for leg in (call.a, call.b, *call.parties):
            if leg is not None and leg is not by:
                self._send_bye(leg)
        if by is not None and by.dialog is not None:
            by.dialog.state = DialogState.TERMINATED
        self._finish(call, side, cause)

    def _dtmf_callback(self, call: Call) -> Callable[[Bridge, RtpEndpoint, DtmfDigit], None]:
        def dtmf(bridge: Bridge, leg: RtpEndpoint, digit: DtmfDigit) -> None:
            role = "a" if call.a is not None and leg is call.a.rtp else "b"
            call.digits.append((role, digit.digit))
            if role == "b" and call.b is not None and leg is call.b.rtp:
                self._feature_digit(call, digit.digit)

        return dtmf

    def _bridge_end_callback(self, call: Call) -> Callable[[Bridge, str], None]:
        def ended(bridge: Bridge, reason: str) -> None:
            if not call.ended:
                self.hangup(call, None, "system", reason)

        return ended

    def _finish(self, call: Call, side: Literal["caller", "callee", "system"], cause: str) -> None:
        if call.ended:
            return
        call.ended = True
        ended_at = utcnow()
        if call.ring_timer is not None:
            call.ring_timer.cancel()
            call.ring_timer = None
        for fork in list(call.forks) + list(call.transfer_forks) + list(call.party_forks):
            if fork.key is not None:
                fork.channel.cancel(fork.key)
                self.by_invite_key.pop(fork.key, None)
                fork.key = None
            self._close_rtp(fork.rtp)
        call.forks.clear()
        call.transfer_forks.clear()
        call.party_forks.clear()
        bridge = call.bridge
        if bridge is not None:
            bridge.end("hangup")
            call.counters = bridge.counters()
        self.history.append(call)
        for leg in (call.a, call.b, *call.parties):
            if leg is None:
                continue
            self._close_rtp(leg.rtp)
            self.legs.pop((leg.invite.call_id(), leg.local_tag), None)
            if leg.key is not None:
                self.by_invite_key.pop(leg.key, None)
        self.calls.pop(call.id, None)
        recording = ""
        if call.recording is not None and bridge is not None:
            try:
                recording = call.recording.relative_to(self.config.recordings_dir.parent).as_posix()
            except ValueError:
                recording = call.recording.as_posix()
        record = CallRecord(
            call_id=call.id, direction=call.direction, caller=call.caller, callee=call.callee,
            offered_at=call.offered_at, answered_at=call.answered_at, ended_at=ended_at,
            hangup_side=side, hangup_cause=cause, trunk=call.trunk, agent_extension=call.agent_extension,
            recording_path=recording,
        )
        self.event(call, "ended", call.agent_extension or (call.caller if call.direction == "outbound" else call.callee))
        self.spawn(self._store(record, bridge))

    async def _store(self, record: CallRecord, bridge: Bridge | None) -> None:
        if bridge is not None:
            try:
                await bridge.wait_recording()
            except Exception:
                log.exception("%s: recording failed", record.call_id)
        try:
            await self.server.directory.record_call(record)
        except Exception:
            self.directory_errors += 1
            log.exception("directory.record_call failed for %s (CDR lost)", record.call_id)

    async def shutdown(self) -> None:
        for call in list(self.calls.values()):
            if call.answered_at is None and call.a is not None:
                self._respond(call.a, 503)
            self.hangup(call, None, "system", "shutdown")
        await self.wait_tasks()

    def is_ip_in(self, host: str, networks: tuple[str, ...]) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        for net in networks:
            try:
                if ip in ipaddress.ip_network(net, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def stats(self) -> dict[str, int]:
        return {
            "calls": len(self.calls),
            "started": self.started,
            "answered": self.answered,
            "failed": self.failed,
            "rejected_busy": self.rejected_busy,
            "directory_errors": self.directory_errors,
            "dialog_legs": len(self.legs),
            "pending_invites": len(self.by_invite_key),
        }
