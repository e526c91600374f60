"""Small message builders for the SIP tests (滨江市 numbering)."""

from __future__ import annotations

from hotline.sip.headers import Headers
from hotline.sip.message import Request, Response, response_for
from hotline.sip.uri import parse_uri


def request(method: str = "INVITE", *, branch: str = "z9hG4bKct1", cseq: int = 1, sent_by: str = "10.0.0.8:5060",
            to_tag: str | None = None, call_id: str = "call-1@10.0.0.8", body: bytes = b"") -> Request:
    to = "<sip:12345@binjiang.example>" + (f";tag={to_tag}" if to_tag else "")
    items = [
        ("Via", f"SIP/2.0/UDP {sent_by};branch={branch}"),
        ("Max-Forwards", "70"),
        ("To", to),
        ("From", '"市民" <sip:13800000000@binjiang.example>;tag=caller1'),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} {method}"),
        ("Contact", f"<sip:13800000000@{sent_by}>"),
    ]
    if body:
        items.append(("Content-Type", "application/sdp"))
    return Request.build(method, parse_uri("sip:12345@binjiang.example"), Headers(items), body)


def reply(req: Request, status: int, to_tag: str = "callee1") -> Response:
    extra = (("Contact", "<sip:agent8001@10.0.0.20:5060>"),) if status < 300 and req.method == "INVITE" else ()
    return response_for(req, status, to_tag=to_tag, extra=extra)
