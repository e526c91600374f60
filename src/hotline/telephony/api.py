"""Telephony endpoints, mounted at /api/telephony (docs/telephony-admin.md).

Thin: parse, one call into ``telephony.actions``, serialise. Who may do what is
decided in ``telephony.access`` (through the actions).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from hotline.lib import clock
from hotline.lib.errors import Forbidden, InvalidInput
from hotline.telephony import actions, cti

router = Router(tags=["telephony"])

CHUNK = 64 * 1024
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _user(request: HttpRequest) -> Any:
    return request.user


# --- schemas -------------------------------------------------------------------------------


class SipPasswordIn(Schema):
    password: str | None = Field(None, description="the new SIP password (8-64 printable ASCII); omit to generate one")


class SipAccountOut(Schema):
    user_id: int
    username: str = Field(description="digest username: the extension the password was set for")
    realm: str
    enabled: bool
    usable: bool = Field(description="false after the user's extension or the realm changed: set a new password")
    updated_at: dt.datetime
    password: str | None = Field(None, description="the generated password, shown this once (never stored)")


class SipAccountPatch(Schema):
    enabled: StrictBool


class DidRouteOut(Schema):
    id: int
    trunk_id: int
    did: str
    extension: str


class TrunkOut(Schema):
    id: int
    name: str
    host: str
    port: int
    transport: str
    username: str
    password_env: str = Field(description="environment variable of the PBX holding the trunk password")
    password_set: bool = Field(description="whether that variable is set in this (web) process's environment")
    register_: bool = Field(alias="register", description="register to the carrier (false: IP-authenticated)")
    expires: int
    allowed_sources: list[str]
    outbound_prefix: str
    caller_id: str
    enabled: bool
    updated_at: dt.datetime
    did_routes: list[DidRouteOut]


class TrunkIn(Schema):
    name: str = Field(..., description="letters, digits, _ or - (max 32)")
    host: str = Field(..., description="IP address or DNS name of the carrier / gateway")
    port: StrictInt = 5060
    transport: str = Field("udp", description="udp or tcp")
    username: str = ""
    password_env: str = Field("", description="default HOTLINE_TRUNK_<NAME>_PASSWORD when a username is given")
    register_: StrictBool = Field(False, alias="register", description="register to the carrier (false: IP-authenticated)")
    expires: StrictInt = Field(3600, description="registration expiry, 60-86400 s")
    allowed_sources: list[str] = Field(default_factory=list, description="addresses or CIDR networks allowed to send calls")
    outbound_prefix: str = ""
    caller_id: str = ""
    enabled: StrictBool = True


class TrunkPatch(Schema):
    name: str | None = None
    host: str | None = None
    port: StrictInt | None = None
    transport: str | None = None
    username: str | None = None
    password_env: str | None = None
    register_: StrictBool | None = Field(None, alias="register")
    expires: StrictInt | None = None
    allowed_sources: list[str] | None = None
    outbound_prefix: str | None = None
    caller_id: str | None = None
    enabled: StrictBool | None = None


class DidRouteIn(Schema):
    trunk: StrictInt | str = Field(..., description="trunk id or name")
    did: str = Field(..., description="the dialled number as the carrier sends it")
    extension: str = Field(..., description="an existing user's extension")


class DidRoutePatch(Schema):
    trunk: StrictInt | str | None = None
    did: str | None = None
    extension: str | None = None


class CallOut(Schema):
    call_id: str
    direction: str
    caller: str
    callee: str
    trunk: str
    agent_extension: str
    agent_id: int | None
    agent_name: str
    offered_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime
    duration: float
    hangup_side: str
    hangup_cause: str
    has_recording: bool
    may_play: bool


class CallPage(Schema):
    items: list[CallOut]
    total: int
    page: int
    page_size: int


class CallFilters(Schema):
    since: dt.datetime | None = Field(None, description="offered at or after")
    until: dt.datetime | None = Field(None, description="offered before")
    agent: int | None = Field(None, description="agent user id")
    caller: str | None = Field(None, description="caller number; a trailing * matches a prefix")
    direction: str | None = Field(None, description="inbound / outbound / internal")
    page: int = 1
    page_size: int = 50


class CtiEventIn(Schema):
    extension: str
    kind: str
    call_id: str
    caller: str = ""
    callee: str = ""
    at: str = ""
    sent: float


# --- SIP accounts ----------------------------------------------------------------------------


def _no_extra(request: HttpRequest, allowed: set[str]) -> None:
    """Unknown body fields are refused (a typo must not be silently ignored)."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise InvalidInput("body", "json", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "object", "the body must be a JSON object")
    if set(body) - allowed:
        raise InvalidInput.many([{"field": k, "rule": "unknown", "message": f"{k} is not a field of this request"} for k in sorted(set(body) - allowed)])


@router.post("/agents/{user_id}/sip-password", response=SipAccountOut,
             summary="设置或生成座席SIP密码 / set or generate an agent's SIP password (administrators)")
def set_sip_password(request: HttpRequest, user_id: int, payload: SipPasswordIn) -> dict[str, Any]:
    _no_extra(request, {"password"})
    cred, password = actions.do_set_sip_password(_user(request), user_id, payload.password, now=clock.now())
    out = actions.credential_out(cred)
    out["password"] = password if payload.password is None else None
    return out


@router.get("/agents/{user_id}/sip-account", response=SipAccountOut, summary="座席SIP账号 / an agent's SIP account (administrators)")
def get_sip_account(request: HttpRequest, user_id: int) -> dict[str, Any]:
    return actions.credential_out(actions.get_credential(_user(request), user_id))


@router.patch("/agents/{user_id}/sip-account", response=SipAccountOut, summary="启用或停用SIP账号 / enable or disable (administrators)")
def patch_sip_account(request: HttpRequest, user_id: int, payload: SipAccountPatch) -> dict[str, Any]:
    _no_extra(request, {"enabled"})
    cred = actions.do_set_sip_enabled(_user(request), user_id, payload.enabled, now=clock.now())
    return actions.credential_out(actions.get_credential(_user(request), cred.user_id))


# --- trunks and DID routes -------------------------------------------------------------------


@router.get("/trunks", response=list[TrunkOut], by_alias=True, summary="中继列表 / trunks (administrators)")
def list_trunks(request: HttpRequest) -> list[dict[str, Any]]:
    return [actions.trunk_out(t) for t in actions.list_trunks(_user(request))]


@router.post("/trunks", response={201: TrunkOut}, by_alias=True, summary="新增中继 / create a trunk (administrators)")
def create_trunk(request: HttpRequest, payload: TrunkIn) -> Status[dict[str, Any]]:
    _no_extra(request, set(actions.TRUNK_FIELDS))
    return Status(201, actions.trunk_out(actions.do_create_trunk(_user(request), payload.dict(by_alias=True), now=clock.now())))


@router.get("/trunks/{trunk_id}", response=TrunkOut, by_alias=True, summary="中继详情 / one trunk (administrators)")
def get_trunk(request: HttpRequest, trunk_id: int) -> dict[str, Any]:
    return actions.trunk_out(actions.get_trunk(_user(request), trunk_id))


@router.patch("/trunks/{trunk_id}", response=TrunkOut, by_alias=True, summary="修改中继 / change a trunk (administrators)")
def update_trunk(request: HttpRequest, trunk_id: int, payload: TrunkPatch) -> dict[str, Any]:
    _no_extra(request, set(actions.TRUNK_FIELDS))
    return actions.trunk_out(actions.do_update_trunk(_user(request), trunk_id, payload.dict(exclude_unset=True, by_alias=True), now=clock.now()))


@router.delete("/trunks/{trunk_id}", response={204: None}, summary="删除中继及其号码路由 / delete a trunk with its DID routes (administrators)")
def delete_trunk(request: HttpRequest, trunk_id: int) -> Status[None]:
    actions.do_delete_trunk(_user(request), trunk_id, now=clock.now())
    return Status(204, None)


@router.get("/did-routes", response=list[DidRouteOut], summary="呼入号码路由 / DID routes (administrators)")
def list_did_routes(request: HttpRequest, trunk: int | None = None) -> list[dict[str, Any]]:
    return [actions.did_route_out(r) for r in actions.list_did_routes(_user(request), trunk)]


@router.post("/did-routes", response={201: DidRouteOut}, summary="新增号码路由 / route a DID to an extension (administrators)")
def create_did_route(request: HttpRequest, payload: DidRouteIn) -> Status[dict[str, Any]]:
    _no_extra(request, {"trunk", "did", "extension"})
    return Status(201, actions.did_route_out(actions.do_create_did_route(_user(request), payload.dict(by_alias=True), now=clock.now())))


@router.patch("/did-routes/{route_id}", response=DidRouteOut, summary="修改号码路由 / change a DID route (administrators)")
def update_did_route(request: HttpRequest, route_id: int, payload: DidRoutePatch) -> dict[str, Any]:
    _no_extra(request, {"trunk", "did", "extension"})
    return actions.did_route_out(actions.do_update_did_route(_user(request), route_id, payload.dict(exclude_unset=True), now=clock.now()))


@router.delete("/did-routes/{route_id}", response={204: None}, summary="删除号码路由 / delete a DID route (administrators)")
def delete_did_route(request: HttpRequest, route_id: int) -> Status[None]:
    actions.do_delete_did_route(_user(request), route_id, now=clock.now())
    return Status(204, None)


# --- call records and recordings ------------------------------------------------------------


@router.get("/calls", response=CallPage, summary="通话记录 / call detail records (filters, pages)")
def list_calls(request: HttpRequest, filters: Query[CallFilters]) -> dict[str, Any]:
    user = _user(request)
    rows, total, page = actions.list_calls(user, filters.dict())
    return {"items": [actions.call_out(user, c) for c in rows], "total": total, "page": page, "page_size": filters.page_size}


def _file_chunks(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for one ``bytes=`` range; None = whole file; ValueError = unsatisfiable."""
    if not header:
        return None
    m = RANGE_RE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # several ranges or another unit: RFC 9110 lets us send the whole file
    if not m.group(1):  # suffix: the last N bytes
        n = int(m.group(2))
        if n == 0:
            raise ValueError
        return max(0, size - n), size - 1
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else size - 1
    if first >= size or last < first:
        raise ValueError
    return first, min(last, size - 1)


@router.get("/recording", summary="播放录音 / a call's recording (audio/wav, Range supported; audited)",
            response={200: None, 206: None, 416: None})
def recording(request: HttpRequest, call_id: str) -> HttpResponse:
    user = _user(request)
    header = request.headers.get("Range", "")
    # One audit row per playback: the first request of a playback starts at byte 0
    # (browsers then fetch further ranges while seeking).
    starts_at_zero = not header or header.strip().startswith("bytes=0-")
    call, path = actions.open_recording(user, call_id, audit_access=starts_at_zero, now=clock.now())
    size = path.stat().st_size
    try:
        span = _byte_range(header, size)
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    first, last = span if span else (0, size - 1)
    response = StreamingHttpResponse(_file_chunks(path, first, last - first + 1), status=206 if span else 200, content_type="audio/wav")
    response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    if span:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Content-Disposition"] = 'inline; filename="call.wav"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- CTI events from the PBX -------------------------------------------------------------


@router.post("/cti/events", auth=None, response={202: None}, include_in_schema=False)
async def cti_event(request: HttpRequest, payload: CtiEventIn) -> Status[None]:
    """The PBX's call events when there is no shared channel layer (``telephony.cti``):
    signed with ``HOTLINE_SIP_SECRET``, at most a minute old."""
    if not cti.verify(request.body, request.headers.get(cti.SIGNATURE_HEADER, "")):
        raise Forbidden("bad CTI signature")
    if abs(time.time() - payload.sent) > cti.MAX_SKEW_SECONDS:
        raise Forbidden("stale CTI event")
    if payload.kind not in cti.KINDS:
        raise InvalidInput("kind", "choice", "kind: ringing, answered or ended")
    if cti.group_for(payload.extension) is None:
        raise InvalidInput("extension", "format", "extension: letters, digits, '.', '_' or '-'")
    await cti.group_send(payload.extension, cti.message(payload.kind, payload.call_id, payload.caller, payload.callee, payload.at))
    return Status(202, None)
