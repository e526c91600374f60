"""Semantic checks a server makes before processing a request (RFC 3261 §8.2,
§16.3), giving the response it should send; and the checks that make a client
drop a response (§8.1.3.3, §18.1.2).

:func:`validate_request` never raises: it returns ``None`` for a request that
may be processed or a :class:`Rejection` (status, reason, the header at fault
and the extra headers the response must carry: ``Allow`` for 405,
``Unsupported`` for 420, ``Accept`` for 415).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from hotline.sip.errors import SipParseError
from hotline.sip.grammar import WS
from hotline.sip.headers import BRANCH_MAGIC, SINGLE_HEADERS
from hotline.sip.message import REASONS, Request, Response
from hotline.sip.uri import AbsoluteUri, SipUri

__all__ = [
    "DEFAULT_ALLOWED_METHODS",
    "KNOWN_METHODS",
    "Rejection",
    "validate_request",
    "validate_response",
]

KNOWN_METHODS: Final = frozenset(
    {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY",
     "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"}
)
DEFAULT_ALLOWED_METHODS: Final = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO"})
_DATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$"
)


@dataclass(frozen=True)
class Rejection:
    status: int
    message: str
    header: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()

    @property
    def reason(self) -> str:
        return REASONS.get(self.status, "")


def _syntax(message: Request | Response) -> SipParseError | None:
    """Parse every header a transaction layer relies on; the first error."""
    for name in SINGLE_HEADERS:
        if message.headers.count(name) > 1:
            return SipParseError("appears more than once", header=name)
    try:
        message.vias()
        message.from_addr()
        message.to_addr()
        message.call_id()
        message.cseq()
        message.max_forwards()
        message.content_length()
        if not message.contact_is_star():
            message.contacts()
        message.routes()
        message.record_routes()
        date = message.headers.get("Date")
        if date is not None and not _DATE.match(date.strip(WS)):
            return SipParseError("not an RFC 1123 date in GMT", header="Date")
    except SipParseError as exc:
        return exc
    return None


def _media_type_accepted(accept_values: list[str], media_type: str) -> bool:
    major = media_type.split("/", 1)[0]
    for value in accept_values:
        item = value.split(";", 1)[0].strip(WS).lower()
        if item in ("*/*", media_type, f"{major}/*"):
            return True
    return False


def validate_request(
    request: Request,
    *,
    allowed_methods: frozenset[str] = DEFAULT_ALLOWED_METHODS,
    supported_extensions: frozenset[str] = frozenset(),
    accepted_content_types: frozenset[str] = frozenset({"application/sdp"}),
    as_proxy: bool = False,
) -> Rejection | None:
    """The rejection a UAS (or, with ``as_proxy``, a proxy) sends, or None.

    Order: version (505), syntax and mandatory headers (400), unknown method
    (501, before the CSeq check as RFC 4475 §3.1.2.18 prefers), CSeq method,
    Request-URI headers and an empty RFC 3261 branch (400), URI scheme (416),
    method not allowed (405), Max-Forwards 0 at a proxy (483),
    Require / Proxy-Require (420), body type (415), Accept for an INVITE
    (406), REGISTER To/Contact schemes (400).
    """
    if request.version != "SIP/2.0":
        return Rejection(505, f"{request.version} is not supported")
    for name in ("To", "From", "Call-ID", "CSeq", "Via"):
        if name not in request.headers:
            return Rejection(400, "missing mandatory header", name)
    error = _syntax(request)
    if error is not None:
        return Rejection(400, error.message, error.header)
    if request.method not in KNOWN_METHODS:
        return Rejection(501, f"method {request.method!r} not implemented")
    cseq = request.cseq()
    if cseq.method != request.method:
        return Rejection(400, f"CSeq method {cseq.method} does not match {request.method}", "CSeq")
    uri = request.uri
    if isinstance(uri, SipUri) and uri.headers:
        return Rejection(400, "headers are not allowed in a Request-URI", "Request-URI")
    if request.top_via().branch == BRANCH_MAGIC:
        return Rejection(400, "branch is the bare magic cookie", "Via")
    if isinstance(uri, AbsoluteUri):
        return Rejection(416, f"URI scheme {uri.scheme!r} not supported", "Request-URI")
    if request.method not in allowed_methods:
        return Rejection(405, f"method {request.method} not allowed", None,
                         (("Allow", ", ".join(sorted(allowed_methods))),))
    if as_proxy and request.max_forwards() == 0:
        return Rejection(483, "Max-Forwards reached 0", "Max-Forwards")
    if request.method not in ("ACK", "CANCEL"):
        tag_names = ("Proxy-Require",) if as_proxy else ("Require",)
        for name in tag_names:
            unknown = [t for t in request.option_tags(name) if t.lower() not in supported_extensions]
            if unknown:
                return Rejection(420, f"unsupported {name}", name, (("Unsupported", ", ".join(unknown)),))
    if request.body and not as_proxy:
        content_type = request.content_type()
        if content_type is None or content_type not in accepted_content_types:
            return Rejection(415, f"body type {content_type!r} not supported", "Content-Type",
                             (("Accept", ", ".join(sorted(accepted_content_types))),))
    if request.method == "INVITE" and not as_proxy and "Accept" in request.headers:
        if not _media_type_accepted(request.headers.values("Accept"), "application/sdp"):
            return Rejection(406, "the Accept header excludes application/sdp", "Accept")
    if request.method == "REGISTER" and not as_proxy:
        if not isinstance(request.to_addr().uri, SipUri):
            return Rejection(400, "the address-of-record must be a SIP or SIPS URI", "To")
        if not request.contact_is_star():
            for contact in request.contacts():
                if isinstance(contact.uri, AbsoluteUri):
                    return Rejection(400, f"contact scheme {contact.uri.scheme!r} not supported", "Contact")
    return None


def validate_response(response: Response, *, as_proxy: bool = False) -> str | None:
    """Why this response must be dropped (None: process it).

    Responses are never answered; malformed ones are discarded silently.  A
    UAC discards a response with more than one Via (RFC 3261 §8.1.3.3); a
    proxy drops one whose next hop would be a broadcast or multicast address
    (RFC 4475 §3.3.10).
    """
    if response.version != "SIP/2.0":
        return f"{response.version} is not supported"
    for name in ("To", "From", "Call-ID", "CSeq", "Via"):
        if name not in response.headers:
            return f"missing {name}"
    error = _syntax(response)
    if error is not None:
        return str(error)
    vias = response.vias()
    if not as_proxy and len(vias) > 1:
        return "more than one Via in a response to a UAC"
    if as_proxy and len(vias) > 1:
        host = (vias[1].param("received") or vias[1].host).strip("[]")
        first = host.split(".")[0]
        if host == "255.255.255.255" or (first.isdigit() and 224 <= int(first) <= 239) or host.lower().startswith("ff"):
            return "the next Via is a broadcast or multicast address"
    return None
