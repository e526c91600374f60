"""Telephony administration and the read side of calls and recordings.

Every write is one ``do_*`` function: access (``telephony.access``), input checks
(``InvalidInput`` naming every bad field and its rule), the change and its audit
row in one transaction. The API and any future page or CLI call these.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import secrets
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hotline.accounts.models import User
from hotline.audit import actions as audit
from hotline.lib.env import ConfigError, envstr
from hotline.lib.errors import InvalidInput, NotFound
from hotline.lib.validation import text as _text
from hotline.sip.digest import hash_a1
from hotline.telephony import access
from hotline.telephony.models import CallRecord, DidRoute, SipCredential, Transport, Trunk, default_password_env

Errors = list[dict[str, Any]]

PASSWORD_MIN, PASSWORD_MAX = 8, 64
#: Characters a desk phone's keypad or a softphone's settings field takes without trouble.
PASSWORD_RE = re.compile(r"^[\x21-\x7e]+$")
GENERATED_ALPHABET = string.ascii_letters + string.digits
GENERATED_LENGTH = 16
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,31}$")
HOST_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")
DID_RE = re.compile(r"^\+?[0-9]{1,31}$")
PREFIX_RE = re.compile(r"^[0-9*#]{1,8}$")
CALLER_ID_RE = re.compile(r"^\+?[0-9]{1,31}$")
EXPIRES_MIN, EXPIRES_MAX = 60, 86400
MAX_SOURCES = 64

TRUNK_FIELDS = ["name", "host", "port", "transport", "username", "password_env", "register", "expires",
                "allowed_sources", "outbound_prefix", "caller_id", "enabled"]


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _raise(errors: Errors) -> None:
    if errors:
        raise InvalidInput.many(errors)


# --- SIP credentials ------------------------------------------------------------------


def _agent(user_id: int, *, for_update: bool = False) -> User:
    qs = User.objects.all()
    if for_update:
        qs = qs.select_for_update()
    agent = qs.filter(pk=user_id).first()
    if agent is None:
        raise NotFound("user not found")
    return agent


def check_sip_password(password: Any) -> str:
    errors: Errors = []
    if not isinstance(password, str):
        errors.append({"field": "password", "rule": "type", "message": "password must be text"})
    elif not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        errors.append({"field": "password", "rule": "length", "message": f"password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters"})
    elif not PASSWORD_RE.match(password):
        errors.append({"field": "password", "rule": "charset", "message": "password: printable ASCII without spaces"})
    elif password.isdigit() and len(set(password)) < 4:
        errors.append({"field": "password", "rule": "too_simple", "message": "password is too easy to guess"})
    _raise(errors)
    return str(password)


def generate_sip_password() -> str:
    return "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(GENERATED_LENGTH))


def ha1_values(username: str, realm: str, password: str) -> dict[str, str]:
    return {"MD5": hash_a1("MD5", username, realm, password), "SHA-256": hash_a1("SHA-256", username, realm, password)}


def do_set_sip_password(actor: User, user_id: int, password: str | None = None, *, now: dt.datetime | None = None) -> tuple[SipCredential, str]:
    """Set (``password``) or generate (``None``) an agent's SIP password.

    Returns the credential and the password, which is shown once and never stored:
    only its HA1 values for the realm are kept. The agent needs an extension (the
    digest username)."""
    access.require_admin(actor, "set SIP passwords")
    password = generate_sip_password() if password is None else check_sip_password(password)
    realm = settings.HOTLINE_SIP_REALM
    with transaction.atomic():
        agent = _agent(user_id, for_update=True)
        if not agent.extension:
            raise InvalidInput("extension", "required", "the user has no extension: give them one first (分机号)")
        if not agent.is_active:
            raise InvalidInput("user", "inactive", "the user account is disabled")
        ha1 = ha1_values(agent.extension, realm, password)
        cred = SipCredential.objects.select_for_update().filter(user=agent).first()
        created = cred is None
        if cred is None:
            cred = SipCredential(user=agent)
        cred.username, cred.realm = agent.extension, realm
        cred.ha1_md5, cred.ha1_sha256 = ha1["MD5"], ha1["SHA-256"]
        cred.enabled = True
        cred.updated_at = _now(now)
        cred.save()
        # The password is not in the audit row; that it changed, and for whom, is.
        audit.record(actor, "telephony.sip_password_set", cred, at=cred.updated_at, changes=[
            {"field": "sip_password", "old": None if created else "***", "new": "***"},
            {"field": "username", "old": None, "new": cred.username},
            {"field": "realm", "old": None, "new": realm},
        ])
    return cred, password


def do_set_sip_enabled(actor: User, user_id: int, enabled: Any, *, now: dt.datetime | None = None) -> SipCredential:
    access.require_admin(actor, "enable or disable SIP accounts")
    if not isinstance(enabled, bool):
        raise InvalidInput("enabled", "type", "enabled must be true or false")
    with transaction.atomic():
        agent = _agent(user_id)
        cred = SipCredential.objects.select_for_update().filter(user=agent).first()
        if cred is None:
            raise NotFound("this user has no SIP password yet")
        if cred.enabled != enabled:
            old = cred.enabled
            cred.enabled, cred.updated_at = enabled, _now(now)
            cred.save(update_fields=["enabled", "updated_at"])
            audit.record(actor, "telephony.sip_account_" + ("enable" if enabled else "disable"), cred, at=cred.updated_at,
                         changes=[{"field": "enabled", "old": old, "new": enabled}])
    return cred


def credential_out(cred: SipCredential) -> dict[str, Any]:
    current = cred.user.extension == cred.username and cred.realm == settings.HOTLINE_SIP_REALM
    return {
        "user_id": cred.user_id,
        "username": cred.username,
        "realm": cred.realm,
        "enabled": cred.enabled,
        # False after the extension or realm changed: set a new password.
        "usable": bool(current and cred.enabled and cred.user.is_active),
        "updated_at": cred.updated_at,
    }


def get_credential(actor: User, user_id: int) -> SipCredential:
    access.require_admin(actor, "read SIP accounts")
    cred = SipCredential.objects.select_related("user").filter(user_id=user_id).first()
    if cred is None:
        raise NotFound("this user has no SIP password yet")
    return cred


# --- trunks ------------------------------------------------------------------------------


def _host(value: Any, errors: Errors) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append({"field": "host", "rule": "required", "message": "host is required"})
        return ""
    host = value.strip().lower()
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host.strip("[]")
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(HOST_LABEL_RE.match(label) for label in labels) or labels[-1].isdigit():
        errors.append({"field": "host", "rule": "hostname", "message": "host must be an IP address or a DNS name"})
    return host


def _int_field(data: Mapping[str, Any], field: str, errors: Errors, lo: int, hi: int, default: int) -> int:
    value = data.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append({"field": field, "rule": "type", "message": f"{field} must be a whole number"})
        return default
    if not lo <= value <= hi:
        errors.append({"field": field, "rule": "range", "message": f"{field} must be between {lo} and {hi}"})
    return value


def _bool_field(data: Mapping[str, Any], field: str, errors: Errors, default: bool) -> bool:
    value = data.get(field, default)
    if not isinstance(value, bool):
        errors.append({"field": field, "rule": "type", "message": f"{field} must be true or false"})
        return default
    return value


def _sources(value: Any, errors: Errors) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_SOURCES:
        errors.append({"field": "allowed_sources", "rule": "type", "message": f"allowed_sources must be a list of at most {MAX_SOURCES} addresses"})
        return []
    out: list[str] = []
    for i, item in enumerate(value):
        try:
            if not isinstance(item, str):
                raise ValueError
            out.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            errors.append({"field": f"allowed_sources.{i}", "rule": "cidr", "message": f"{item!r} is not an IP address or CIDR network"})
    return out


def check_trunk(data: Mapping[str, Any], instance: Trunk | None = None) -> dict[str, Any]:
    """The trunk's fields after validation; every bad field reported at once."""
    base: dict[str, Any] = {} if instance is None else {f: getattr(instance, f) for f in TRUNK_FIELDS}
    merged = {**base, **data}
    errors: Errors = []
    out: dict[str, Any] = {}
    name = _text(merged, "name", errors, required=True, max_length=32)
    if name and not NAME_RE.match(name):
        errors.append({"field": "name", "rule": "format", "message": "name: letters, digits, '_' or '-' (max 32)"})
    elif name and Trunk.objects.filter(name__iexact=name).exclude(pk=getattr(instance, "pk", None)).exists():
        errors.append({"field": "name", "rule": "unique", "message": f"a trunk named {name!r} exists"})
    out["name"] = name
    out["host"] = _host(merged.get("host"), errors)
    out["port"] = _int_field(merged, "port", errors, 1, 65535, 5060)
    transport = merged.get("transport", Transport.UDP)
    if transport not in Transport.values:
        errors.append({"field": "transport", "rule": "choice", "message": "transport must be udp or tcp"})
    out["transport"] = transport
    out["username"] = _text(merged, "username", errors, max_length=64)
    env = merged.get("password_env")
    if env in (None, ""):
        env = default_password_env(name) if out["username"] else ""
    if not isinstance(env, str) or (env and not ENV_RE.match(env)):
        errors.append({"field": "password_env", "rule": "env_name", "message": "password_env: an environment variable name (A-Z, 0-9, _)"})
    out["password_env"] = env
    out["register"] = _bool_field(merged, "register", errors, False)
    if out["register"] and not out["username"]:
        errors.append({"field": "username", "rule": "required_for_register", "message": "a registering trunk needs a username"})
    out["expires"] = _int_field(merged, "expires", errors, EXPIRES_MIN, EXPIRES_MAX, 3600)
    out["allowed_sources"] = _sources(merged.get("allowed_sources"), errors)
    prefix = _text(merged, "outbound_prefix", errors, max_length=8)
    if prefix and not PREFIX_RE.match(prefix):
        errors.append({"field": "outbound_prefix", "rule": "digits", "message": "outbound_prefix: up to 8 digits, * or #"})
    out["outbound_prefix"] = prefix
    caller_id = _text(merged, "caller_id", errors, max_length=32)
    if caller_id and not CALLER_ID_RE.match(caller_id):
        errors.append({"field": "caller_id", "rule": "digits", "message": "caller_id: digits, optionally starting with +"})
    out["caller_id"] = caller_id
    out["enabled"] = _bool_field(merged, "enabled", errors, True)
    if prefix and out["enabled"] and Trunk.objects.filter(enabled=True, outbound_prefix=prefix).exclude(pk=getattr(instance, "pk", None)).exists():
        errors.append({"field": "outbound_prefix", "rule": "unique", "message": f"another enabled trunk takes the prefix {prefix!r}"})
    unknown = sorted(set(data) - set(TRUNK_FIELDS))
    for field in unknown:
        errors.append({"field": field, "rule": "unknown", "message": f"{field} is not a trunk field"})
    _raise(errors)
    return out


def do_create_trunk(actor: User, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Trunk:
    access.require_admin(actor, "configure trunks")
    with transaction.atomic():
        values = check_trunk(data)
        trunk = Trunk.objects.create(**values, updated_at=_now(now))
        audit.record(actor, "telephony.trunk_create", trunk, at=trunk.updated_at, changes=audit.diff({}, values))
    return trunk


def _trunk(trunk_id: int, *, for_update: bool = False) -> Trunk:
    qs = Trunk.objects.select_for_update() if for_update else Trunk.objects.all()
    trunk = qs.filter(pk=trunk_id).first()
    if trunk is None:
        raise NotFound("trunk not found")
    return trunk


def do_update_trunk(actor: User, trunk_id: int, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Trunk:
    access.require_admin(actor, "configure trunks")
    with transaction.atomic():
        trunk = _trunk(trunk_id, for_update=True)
        before = audit.snapshot(trunk, TRUNK_FIELDS)
        values = check_trunk(data, trunk)
        for k, v in values.items():
            setattr(trunk, k, v)
        trunk.updated_at = _now(now)
        trunk.save()
        changes = audit.diff(before, values)
        if changes:
            audit.record(actor, "telephony.trunk_update", trunk, at=trunk.updated_at, changes=changes)
    return trunk


def do_delete_trunk(actor: User, trunk_id: int, *, now: dt.datetime | None = None) -> None:
    """Delete a trunk with its DID routes (CDRs keep the trunk's name as text)."""
    access.require_admin(actor, "configure trunks")
    with transaction.atomic():
        trunk = _trunk(trunk_id, for_update=True)
        routes = [{"did": r.did, "extension": r.extension} for r in trunk.did_routes.all()]
        before = audit.snapshot(trunk, TRUNK_FIELDS)
        audit.record(actor, "telephony.trunk_delete", trunk, at=_now(now),
                     changes=[*audit.diff(before, {k: None for k in before}), {"field": "did_routes", "old": routes, "new": None}])
        trunk.delete()


def _password_set(name: str) -> bool:
    """Whether the variable (or its ``_FILE``) gives a password in this process's environment."""
    try:
        return bool(name and envstr(name))
    except ConfigError:
        return False


def trunk_out(trunk: Trunk) -> dict[str, Any]:
    return {
        **{f: getattr(trunk, f) for f in TRUNK_FIELDS},
        "id": trunk.pk,
        # A hint: the PBX process's environment may differ from the web's.
        "password_set": _password_set(trunk.password_env),
        "updated_at": trunk.updated_at,
        "did_routes": [did_route_out(r) for r in trunk.did_routes.all()],
    }


def list_trunks(actor: User) -> QuerySet[Trunk]:
    access.require_admin(actor, "read trunks")
    return Trunk.objects.prefetch_related("did_routes").order_by("name")


def get_trunk(actor: User, trunk_id: int) -> Trunk:
    access.require_admin(actor, "read trunks")
    return _trunk(trunk_id)


# --- DID routes -------------------------------------------------------------------------


def check_did_route(data: Mapping[str, Any], instance: DidRoute | None = None) -> dict[str, Any]:
    merged = {**({"trunk": instance.trunk_id, "did": instance.did, "extension": instance.extension} if instance else {}), **data}
    errors: Errors = []
    trunk_ref = merged.get("trunk")
    trunk = None
    if isinstance(trunk_ref, bool) or trunk_ref in (None, ""):
        errors.append({"field": "trunk", "rule": "required", "message": "trunk is required (id or name)"})
    elif isinstance(trunk_ref, int):
        trunk = Trunk.objects.filter(pk=trunk_ref).first()
    elif isinstance(trunk_ref, str):
        trunk = Trunk.objects.filter(name=trunk_ref).first()
    if trunk_ref not in (None, "") and trunk is None and not errors:
        errors.append({"field": "trunk", "rule": "exists", "message": f"no trunk {trunk_ref!r}"})
    did = _text(merged, "did", errors, required=True, max_length=32)
    if did and not DID_RE.match(did):
        errors.append({"field": "did", "rule": "digits", "message": "did: digits, optionally starting with +"})
    extension = _text(merged, "extension", errors, required=True, max_length=16)
    if extension and not User.objects.filter(extension=extension, is_active=True).exists():
        errors.append({"field": "extension", "rule": "exists", "message": f"no active user has the extension {extension!r}"})
    if trunk is not None and did and DidRoute.objects.filter(trunk=trunk, did=did).exclude(pk=getattr(instance, "pk", None)).exists():
        errors.append({"field": "did", "rule": "unique", "message": f"{did} is already routed on trunk {trunk.name}"})
    for field in sorted(set(data) - {"trunk", "did", "extension"}):
        errors.append({"field": field, "rule": "unknown", "message": f"{field} is not a DID route field"})
    _raise(errors)
    return {"trunk": trunk, "did": did, "extension": extension}


def _route(route_id: int) -> DidRoute:
    route = DidRoute.objects.select_for_update().filter(pk=route_id).first()
    if route is None:
        raise NotFound("DID route not found")
    return route


def do_create_did_route(actor: User, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> DidRoute:
    access.require_admin(actor, "configure DID routes")
    with transaction.atomic():
        values = check_did_route(data)
        route = DidRoute.objects.create(**values)
        audit.record(actor, "telephony.did_route_create", route, at=_now(now),
                     changes=audit.diff({}, {"trunk": values["trunk"].name, "did": values["did"], "extension": values["extension"]}))
    return route


def do_update_did_route(actor: User, route_id: int, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> DidRoute:
    access.require_admin(actor, "configure DID routes")
    with transaction.atomic():
        route = _route(route_id)
        before = {"trunk": route.trunk.name, "did": route.did, "extension": route.extension}
        values = check_did_route(data, route)
        for k, v in values.items():
            setattr(route, k, v)
        route.save()
        changes = audit.diff(before, {"trunk": route.trunk.name, "did": route.did, "extension": route.extension})
        if changes:
            audit.record(actor, "telephony.did_route_update", route, at=_now(now), changes=changes)
    return route


def do_delete_did_route(actor: User, route_id: int, *, now: dt.datetime | None = None) -> None:
    access.require_admin(actor, "configure DID routes")
    with transaction.atomic():
        route = _route(route_id)
        audit.record(actor, "telephony.did_route_delete", route, at=_now(now),
                     changes=audit.diff({"trunk": route.trunk.name, "did": route.did, "extension": route.extension},
                                        {"trunk": None, "did": None, "extension": None}))
        route.delete()


def did_route_out(route: DidRoute) -> dict[str, Any]:
    return {"id": route.pk, "trunk_id": route.trunk_id, "did": route.did, "extension": route.extension}


def list_did_routes(actor: User, trunk_id: int | None = None) -> QuerySet[DidRoute]:
    access.require_admin(actor, "read DID routes")
    qs = DidRoute.objects.all()
    return qs.filter(trunk_id=trunk_id) if trunk_id is not None else qs


# --- call records and recordings -----------------------------------------------------------

MAX_PAGE_SIZE = 200


def list_calls(actor: User, filters: Mapping[str, Any]) -> tuple[QuerySet[CallRecord], int, int]:
    """Call records ``actor`` may see, filtered: ``since``/``until`` (offered time, until
    exclusive), ``agent`` (user id), ``caller`` (exact or prefix ending in ``*``),
    ``direction``; ``page`` (from 1) and ``page_size`` (1-200). Returns (page rows,
    total, page)."""
    from hotline.lib.errors import Forbidden

    if not access.can_list_calls(actor):
        raise Forbidden("this account may not list call records")
    errors: Errors = []
    qs = access.visible_calls(actor).select_related("agent")
    since, until = filters.get("since"), filters.get("until")
    if since and until and until <= since:
        errors.append({"field": "until", "rule": "after_since", "message": "until must be after since"})
    if since:
        qs = qs.filter(offered_at__gte=since)
    if until:
        qs = qs.filter(offered_at__lt=until)
    if filters.get("agent") is not None:
        qs = qs.filter(agent_id=filters["agent"])
    caller = (filters.get("caller") or "").strip()
    if caller:
        digits = caller[:-1] if caller.endswith("*") else caller
        if not DID_RE.match(digits):
            errors.append({"field": "caller", "rule": "digits", "message": "caller: digits (a trailing * matches a prefix)"})
        elif caller.endswith("*"):
            qs = qs.filter(caller__startswith=digits)
        else:
            qs = qs.filter(caller=digits)
    direction = filters.get("direction")
    if direction:
        if direction not in ("inbound", "outbound", "internal"):
            errors.append({"field": "direction", "rule": "choice", "message": "direction: inbound, outbound or internal"})
        qs = qs.filter(direction=direction)
    page = 1 if filters.get("page") is None else filters["page"]
    size = 50 if filters.get("page_size") is None else filters["page_size"]
    if not isinstance(page, int) or page < 1:
        errors.append({"field": "page", "rule": "range", "message": "page starts at 1"})
    if not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        errors.append({"field": "page_size", "rule": "range", "message": f"page_size must be 1-{MAX_PAGE_SIZE}"})
    _raise(errors)
    total = qs.count()
    rows = qs.order_by("-offered_at", "-id")[(page - 1) * size: page * size]
    return rows, total, page


def call_out(actor: User, call: CallRecord) -> dict[str, Any]:
    caller, callee = call.caller, call.callee
    if call.direction == "inbound":
        caller = access.caller_for(actor, caller)
    elif call.direction == "outbound":
        callee = access.caller_for(actor, callee)
    return {
        "call_id": call.call_id,
        "direction": call.direction,
        "caller": caller,
        "callee": callee,
        "trunk": call.trunk,
        "agent_extension": call.agent_extension,
        "agent_id": call.agent_id,
        "agent_name": str(call.agent) if call.agent_id else "",
        "offered_at": call.offered_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration": round(call.duration, 1),
        "hangup_side": call.hangup_side,
        "hangup_cause": call.hangup_cause,
        "has_recording": bool(call.recording_path),
        "may_play": access.can_play(actor, call),
    }


def recording_file(call: CallRecord) -> Path:
    """The WAV file of ``call``; NotFound when missing or outside the media root."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / call.recording_path).resolve()
    if not call.recording_path or root not in path.parents or not path.is_file():
        raise NotFound("recording not found")
    return path


def open_recording(actor: User, call_id: str, *, audit_access: bool = True, now: dt.datetime | None = None) -> tuple[CallRecord, Path]:
    """A recording ``actor`` may hear, with the audit row of the access (personal data)."""
    call = access.get_playable_call(actor, call_id)
    path = recording_file(call)
    if audit_access:
        with transaction.atomic():
            audit.record(actor, "telephony.recording_play", call, at=_now(now),
                         object_repr=f"{call.call_id} {access.caller_for(actor, call.caller)}")
    return call, path
