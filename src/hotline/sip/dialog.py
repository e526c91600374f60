"""Dialogs (RFC 3261 §12): creation on the UAC and UAS side, route sets,
local/remote CSeq, remote target refresh, in-dialog requests and BYE.

A :class:`Dialog` is a plain mutable record owned by one call; it never sends
anything itself.  The caller gives it the Via of the next request (``via``,
with a fresh branch), and sends what :meth:`Dialog.create_request` returns.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hotline.sip.errors import SipLocalError, SipParseError
from hotline.sip.headers import Address, Headers, Via
from hotline.sip.message import Request, Response
from hotline.sip.uri import SipUri, Uri
from hotline.sip.validate import Rejection

__all__ = ["Dialog", "DialogState", "TARGET_REFRESH_METHODS"]

#: Requests whose Contact replaces the remote target (RFC 3261 §12.2, RFC 3311).
TARGET_REFRESH_METHODS = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})


class DialogState(enum.Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


def _contact_target(message: Request | Response) -> Uri | None:
    contacts = message.contacts()
    return contacts[0].uri if contacts else None


@dataclass
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local_address: Address
    remote_address: Address
    remote_target: Uri
    local_contact: Address
    route_set: tuple[Address, ...] = ()
    local_seq: int = 0
    remote_seq: int | None = None
    secure: bool = False
    is_uac: bool = True
    state: DialogState = DialogState.EARLY

    @property
    def id(self) -> tuple[str, str, str]:
        """(Call-ID, local tag, remote tag)."""
        return (self.call_id, self.local_tag, self.remote_tag)

    # creation --------------------------------------------------------------
    @classmethod
    def from_uac(cls, request: Request, response: Response, *, local_contact: Address) -> Dialog:
        """§12.1.2: the UAC side, from a 1xx with a To tag (early) or a 2xx (confirmed).

        Raises SipParseError for a response that cannot create a dialog
        (no To tag, no Contact) — a UAC then ignores it for dialog purposes.
        """
        if not 101 <= response.status < 300:
            raise SipLocalError("only 101-299 responses create dialogs")
        to = response.to_addr()
        if to.tag is None:
            raise SipParseError("no tag: cannot create a dialog", header="To")
        target = _contact_target(response)
        if target is None:
            raise SipParseError("missing: cannot create a dialog", header="Contact")
        frm = request.from_addr()
        if frm.tag is None:
            raise SipLocalError("our request has no From tag")
        routes = tuple(reversed(response.record_routes()))
        return cls(
            call_id=request.call_id(), local_tag=frm.tag, remote_tag=to.tag,
            local_address=frm, remote_address=to, remote_target=target, local_contact=local_contact,
            route_set=routes, local_seq=request.cseq().number, remote_seq=None,
            secure=isinstance(request.uri, SipUri) and request.uri.secure, is_uac=True,
            state=DialogState.CONFIRMED if response.status >= 200 else DialogState.EARLY,
        )

    @classmethod
    def from_uas(cls, request: Request, *, local_tag: str, local_contact: Address, confirmed: bool,
                 initial_local_seq: int = 1) -> Dialog:
        """§12.1.1: the UAS side, when it answers with 1xx (early) or 2xx (confirmed)."""
        target = _contact_target(request)
        if target is None:
            raise SipParseError("missing: cannot create a dialog", header="Contact")
        frm = request.from_addr()
        if frm.tag is None:
            raise SipParseError("no tag: cannot create a dialog", header="From")
        if not 0 < initial_local_seq < 2**31:
            raise ValueError("initial CSeq must be in 1..2**31-1")
        to = request.to_addr().with_tag(local_tag)
        return cls(
            call_id=request.call_id(), local_tag=local_tag, remote_tag=frm.tag,
            local_address=to, remote_address=frm, remote_target=target, local_contact=local_contact,
            route_set=tuple(request.record_routes()), local_seq=initial_local_seq - 1,
            remote_seq=request.cseq().number,
            secure=isinstance(request.uri, SipUri) and request.uri.secure, is_uac=False,
            state=DialogState.CONFIRMED if confirmed else DialogState.EARLY,
        )

    # updates --------------------------------------------------------------
    def matches(self, message: Request | Response) -> bool:
        """Does this message belong to the dialog (Call-ID and both tags)?"""
        try:
            if message.call_id() != self.call_id:
                return False
            frm, to = message.from_addr().tag, message.to_addr().tag
        except SipParseError:
            return False
        if isinstance(message, Request):
            return (to, frm) == (self.local_tag, self.remote_tag)
        return (frm, to) == (self.local_tag, self.remote_tag)

    def receive_response(self, request: Request, response: Response) -> None:
        """A response to a request we sent in this dialog (§12.1.2, §12.2.1.2)."""
        if request.method == "INVITE" and self.state is DialogState.EARLY:
            if 200 <= response.status < 300:
                self.state = DialogState.CONFIRMED
                self.route_set = tuple(reversed(response.record_routes()))
            elif response.status >= 300:
                self.state = DialogState.TERMINATED
                return
        if 200 <= response.status < 300 and request.method in TARGET_REFRESH_METHODS:
            target = _contact_target(response)
            if target is not None:
                self.remote_target = target
        if response.status in (481, 408):  # §12.2.1.2
            self.state = DialogState.TERMINATED
        elif request.method == "BYE" and response.status >= 200:
            self.state = DialogState.TERMINATED

    def receive_request(self, request: Request) -> Rejection | None:
        """A request inside the dialog (§12.2.2): CSeq order, target refresh, BYE.

        Returns the rejection to send (500 for an out-of-order CSeq) or None.
        """
        cseq = request.cseq().number
        if request.method not in ("ACK", "CANCEL"):
            if self.remote_seq is not None and cseq <= self.remote_seq:
                return Rejection(500, "CSeq lower than the previous request's", "CSeq")
            self.remote_seq = cseq
        if request.method in TARGET_REFRESH_METHODS:
            target = _contact_target(request)
            if target is not None:
                self.remote_target = target
        if request.method == "BYE":
            self.state = DialogState.TERMINATED
        return None

    def confirm(self) -> None:
        """UAS: our 2xx to the dialog-creating INVITE was sent."""
        if self.state is DialogState.EARLY:
            self.state = DialogState.CONFIRMED

    # requests ---------------------------------------------------------------
    def _target_and_routes(self) -> tuple[Uri, list[str]]:
        """§12.2.1.1: loose routing keeps the remote target as Request-URI;
        a strict first hop takes its place and the target goes last."""
        if not self.route_set:
            return self.remote_target, []
        first = self.route_set[0]
        if isinstance(first.uri, SipUri) and first.uri.has_param("lr"):
            return self.remote_target, [str(r) for r in self.route_set]
        first_uri = first.uri.without_headers() if isinstance(first.uri, SipUri) else first.uri
        routes = [str(r) for r in self.route_set[1:]] + [f"<{self.remote_target}>"]
        return first_uri, routes

    def create_request(
        self,
        method: str,
        *,
        via: Via,
        body: bytes = b"",
        content_type: str | None = None,
        extra_headers: tuple[tuple[str, str], ...] = (),
        cseq: int | None = None,
    ) -> Request:
        """A request inside the dialog; CSeq is the next local number except
        for ACK (give the INVITE's number in ``cseq``)."""
        if self.state is DialogState.TERMINATED and method not in ("ACK",):
            raise SipLocalError("dialog is terminated")
        if method == "ACK":
            if cseq is None:
                raise SipLocalError("an ACK needs the INVITE's CSeq number")
            number = cseq
        elif method == "CANCEL":
            raise SipLocalError("CANCEL is built from the INVITE (transaction.make_cancel)")
        else:
            if self.local_seq >= 2**31 - 1:
                raise SipLocalError("CSeq space exhausted")
            self.local_seq += 1
            number = self.local_seq
        uri, routes = self._target_and_routes()
        items: list[tuple[str, str]] = [("Via", str(via)), ("Max-Forwards", "70")]
        items += [("Route", r) for r in routes]
        items += [
            ("From", str(self.local_address)),
            ("To", str(self.remote_address)),
            ("Call-ID", self.call_id),
            ("CSeq", f"{number} {method}"),
        ]
        if method in TARGET_REFRESH_METHODS:
            items.append(("Contact", str(self.local_contact)))
        items += list(extra_headers)
        if body:
            items.append(("Content-Type", content_type or "application/sdp"))
        return Request.build(method, uri, Headers(items), body)

    def create_ack(self, invite_cseq: int, *, via: Via, body: bytes = b"") -> Request:
        """The ACK for a 2xx (§13.2.2.4): a new transaction, the INVITE's CSeq number."""
        return self.create_request("ACK", via=via, cseq=invite_cseq, body=body)

    def create_bye(self, *, via: Via) -> Request:
        return self.create_request("BYE", via=via)
