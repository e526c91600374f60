"""Every change to a ticket, as one ``do_*`` function per action.

Each one: lock the ticket row, check the action against ``lifecycle`` (state, role,
department scope), validate its input, change the ticket, append the timeline event
(``lifecycle.apply``) and the audit row, all in one transaction. Pages, the API, the
CLI, the importer and the workers call these and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from hotline.accounts.models import DEPARTMENT_ROLES, Role, User
from hotline.audit import actions as audit
from hotline.cases import access, cache, deadlines, lifecycle
from hotline.cases.models import (
    Attachment,
    ExtensionRequest,
    ExtensionStatus,
    Satisfaction,
    Status,
    Supervision,
    Ticket,
    TicketAssist,
    TicketEvent,
    Urgency,
)
from hotline.directory import parameters
from hotline.directory.models import Category, Citizen, Department, District, ServiceType, Source
from hotline.lib import rows
from hotline.lib.errors import Forbidden, InvalidInput
from hotline.lib.validation import text as _text

PHONE_RE = re.compile(r"^\+?[0-9][0-9\-]{4,19}$")
ID_NUMBER_RE = re.compile(r"^[0-9]{17}[0-9Xx]$")
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 8

#: Fields whose changes are written to the audit log on every action.
TRACKED = [
    "status", "citizen_name", "contact_phone", "confidential", "source", "service_type", "category",
    "district", "address", "longitude", "latitude", "summary", "content", "urgency", "leader_instruction",
    "lead_department", "handler", "deadline", "sign_deadline", "result", "satisfaction", "recording_ref",
    "merged_into",
]

ALLOWED_ATTACHMENT_TYPES = {
    "image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain",
    "audio/wav", "audio/x-wav", "audio/mpeg", "video/mp4",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# What the first bytes of a file must look like for its declared type.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "audio/wav": (b"RIFF",),
    "audio/x-wav": (b"RIFF",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}


# --- numbers ----------------------------------------------------------------------


def next_ticket_number(now: dt.datetime, *, no_flush_wait: bool = False) -> str:
    """YYYYMMDD + at least 5 digits, unique under concurrency: one atomic upsert
    (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, SQLite ≥ 3.35 and PostgreSQL).
    ``no_flush_wait`` (PostgreSQL, autocommit only: ``number_ahead``) turns
    ``synchronous_commit`` off for the statement's own transaction."""
    day = timezone.localtime(now).date()
    source = "VALUES (%s, 1)"
    if no_flush_wait:
        source = "SELECT %s, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO cases_ticketsequence (day, last) {source} "
            "ON CONFLICT (day) DO UPDATE SET last = cases_ticketsequence.last + 1 RETURNING last",
            [day],
        )
        (value,) = cursor.fetchone()
    return f"{day:%Y%m%d}{value:05d}"


def number_ahead(now: dt.datetime) -> str | None:
    """On PostgreSQL, called outside any transaction: the next number, taken in a short
    transaction of its own before the registration's; otherwise None (the number is
    taken inside the registration's transaction, as on SQLite, whose one write lock
    serialises registrations anyway).

    The day's counter is one row: taken inside the registration, its row lock was held
    until the registration committed, and every registration of the day queued behind
    it (PostgreSQL sessions waited on ``Lock:transactionid`` most of the time:
    docs/benchmarks.md, "Registration, fifth pass"). Here the upsert is one statement
    in autocommit — one round trip, the row locked only while PostgreSQL runs it — and
    its commit does not wait for the WAL flush (``set_config('synchronous_commit',
    'off', true)``: for this transaction alone). That is safe: the registration's own
    commit, later in the same WAL, flushes it too, so a number a committed ticket
    carries is never handed out again after a crash; a crash in between can only make
    the next number be taken again, by a ticket yet to come. A registration that fails
    after this leaves a gap in the day's numbers (as a retry always did): numbers are
    unique, not gap-free."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    return next_ticket_number(now, no_flush_wait=True)


#: random bytes at or above this value are dropped, so every character is equally likely
_QUERY_CODE_BYTE_LIMIT = 256 - 256 % len(QUERY_CODE_ALPHABET)


def new_query_code() -> str:
    """QUERY_CODE_LENGTH characters of the alphabet, uniformly from the system's CSPRNG:
    one ``getrandom`` for the code instead of one per character (``secrets.choice``)."""
    out: list[str] = []
    while len(out) < QUERY_CODE_LENGTH:
        for byte in secrets.token_bytes(2 * QUERY_CODE_LENGTH):
            if byte < _QUERY_CODE_BYTE_LIMIT:
                out.append(QUERY_CODE_ALPHABET[byte % len(QUERY_CODE_ALPHABET)])
    return "".join(out[:QUERY_CODE_LENGTH])


# --- input cleaning ---------------------------------------------------------------


def _ref(model: type[Model], value: Any, field: str, errors: list[dict[str, str]], *, active_only: bool = True) -> Any:
    """A dictionary entry by id (int) or code (str); found entries are remembered per
    process (``cases.cache``, emptied when the dictionary changes)."""
    if value in (None, ""):
        return None
    key = f"{model._meta.label_lower}:{int(active_only)}:{'pk' if isinstance(value, int) else 'code'}:{value}"
    box = cache.store(cache.DICTIONARY)
    obj = box.get(key) if box is not None else None
    if obj is None:
        qs = model._default_manager.all()  # type: ignore[attr-defined]
        if active_only and hasattr(model, "active"):
            qs = qs.filter(active=True)
        obj = qs.filter(pk=value).first() if isinstance(value, int) else qs.filter(code=str(value)).first()
        if obj is not None and box is not None:
            box[key] = obj
    if obj is None:
        errors.append({"field": field, "rule": "exists", "message": f"{field}: no active entry {value!r}"})
    return obj


def _decimal(data: Mapping[str, Any], field: str, lo: float, hi: float, errors: list[dict[str, str]]) -> Decimal | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        errors.append({"field": field, "rule": "number", "message": f"{field} must be a number"})
        return None
    if not lo <= number <= hi:
        errors.append({"field": field, "rule": "range", "message": f"{field} must be between {lo} and {hi}"})
        return None
    return number


TICKET_INPUT_FIELDS = {
    "citizen_name", "contact_phone", "id_number", "confidential", "source", "service_type", "category",
    "district", "address", "longitude", "latitude", "summary", "content", "urgency", "leader_instruction",
    "recording_ref",
}


def check_ticket_fields(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate ticket input; return model-ready values or raise InvalidInput naming
    every bad field. With ``partial`` only the given fields are checked."""
    errors: list[dict[str, str]] = []
    unknown = set(data) - TICKET_INPUT_FIELDS
    for name in sorted(unknown):
        errors.append({"field": name, "rule": "unknown_field", "message": f"unknown field {name}"})
    out: dict[str, Any] = {}

    def wanted(name: str) -> bool:
        return not partial or name in data

    if wanted("contact_phone"):
        phone = _text(data, "contact_phone", errors, required=True, max_length=32).replace(" ", "")
        if phone and not PHONE_RE.match(phone):
            errors.append({"field": "contact_phone", "rule": "phone_format", "message": "contact_phone must be 5-20 digits"})
        out["contact_phone"] = phone
    if wanted("summary"):
        out["summary"] = _text(data, "summary", errors, required=True, max_length=200)
    if wanted("content"):
        out["content"] = _text(data, "content", errors, required=True, max_length=20000)
    for name, limit in (("citizen_name", 64), ("address", 255), ("leader_instruction", 4000), ("recording_ref", 255)):
        if wanted(name):
            out[name] = _text(data, name, errors, required=False, max_length=limit)
    if wanted("id_number"):
        idn = _text(data, "id_number", errors, required=False, max_length=18)
        if idn and not ID_NUMBER_RE.match(idn):
            errors.append({"field": "id_number", "rule": "id_number_format", "message": "id_number must be 18 characters (17 digits + digit or X)"})
        out["id_number"] = idn.upper()
    if wanted("source"):
        out["source"] = _ref(Source, data.get("source"), "source", errors)
        if out["source"] is None and not any(e["field"] == "source" for e in errors):
            errors.append({"field": "source", "rule": "required", "message": "source is required"})
    if wanted("service_type"):
        out["service_type"] = _ref(ServiceType, data.get("service_type"), "service_type", errors)
        if out["service_type"] is None and not any(e["field"] == "service_type" for e in errors):
            errors.append({"field": "service_type", "rule": "required", "message": "service_type is required"})
    if wanted("category"):
        out["category"] = _ref(Category, data.get("category"), "category", errors)
    if wanted("district"):
        out["district"] = _ref(District, data.get("district"), "district", errors)
    if wanted("longitude"):
        out["longitude"] = _decimal(data, "longitude", -180, 180, errors)
    if wanted("latitude"):
        out["latitude"] = _decimal(data, "latitude", -90, 90, errors)
    if wanted("urgency"):
        urgency = data.get("urgency") or Urgency.NORMAL
        if urgency not in Urgency.values:
            errors.append({"field": "urgency", "rule": "choice", "message": f"urgency must be one of {Urgency.values}"})
        out["urgency"] = urgency
    if wanted("confidential"):
        value = data.get("confidential", False)
        if not isinstance(value, bool):
            errors.append({"field": "confidential", "rule": "type", "message": "confidential must be true or false"})
        out["confidential"] = bool(value)
    if errors:
        raise InvalidInput.many(errors)
    return out


#: The citizen fields an audit row records (as ``directory.actions`` does).
CITIZEN_AUDIT_FIELDS = ["name", "phone", "other_phones", "id_number", "address", "tags"]


def _citizen_lookup(phone: str) -> Citizen | None:
    return rows.first_by(Citizen, "phone", phone)  # type: ignore[no-any-return]


def _citizen_for(actor: User | None, phone: str, name: str, id_number: str, when: dt.datetime) -> tuple[Citizen, list[Any]]:
    """The citizen with this phone, created or completed (empty name / ID number filled
    in), and the audit rows of that change (not yet written: the caller writes them with
    its own). Call inside the registration's transaction.

    One citizen per phone even when two first calls from one number are registered at
    the same moment: a phone that is not found is inserted with ``ON CONFLICT (phone) DO
    NOTHING`` (``citizen_phone_unique``). On PostgreSQL the second registration's INSERT
    waits for the first to commit, writes nothing, and the look-up that follows finds
    the first one's row; on SQLite the transaction holds the write lock from its BEGIN
    IMMEDIATE, so look-up and insert cannot interleave. Two statements for a new
    citizen (an advisory lock and a second look-up before it took four).
    """
    citizen = _citizen_lookup(phone)
    if citizen is None:
        new = rows.build(Citizen, phone=phone, name=name, id_number=id_number)
        if rows.insert_unless(new, ("phone",)):
            changes = audit.diff({}, audit.snapshot(new, CITIZEN_AUDIT_FIELDS))
            return new, [audit.entry(actor, "citizen.create", new, changes=changes, at=when)]
        citizen = _citizen_lookup(phone)
        if citizen is None:  # the other writer's row went again (deleted or merged away)
            raise IntegrityError(f"citizen {phone!r}: inserted by another writer and gone again")
    before = audit.snapshot(citizen, CITIZEN_AUDIT_FIELDS)
    changed = []
    if name and not citizen.name:
        citizen.name, changed = name, changed + ["name"]
    if id_number and not citizen.id_number:
        citizen.id_number, changed = id_number, changed + ["id_number"]
    if not changed:
        return citizen, []
    citizen.save(update_fields=changed)
    changes = audit.diff(before, audit.snapshot(citizen, CITIZEN_AUDIT_FIELDS))
    return citizen, [audit.entry(actor, "citizen.update", citizen, changes=changes, at=when)]


def _citizen_in_savepoint(actor: User, phone: str, name: str, id_number: str, when: dt.datetime) -> tuple[Citizen, list[Any]]:
    """``_citizen_for`` outside registration: a citizen with this phone inserted and
    committed by another writer in the meantime (PostgreSQL) is found by a second try."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _citizen_for(actor, phone, name, id_number, when)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


# --- the common path ---------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _act(
    ticket_ref: int | str,
    actor: User,
    name: str,
    *,
    now: dt.datetime | None = None,
    comment: str = "",
    mutate: Callable[[Ticket, dt.datetime], dict[str, Any] | None] | None = None,
    tracked: list[str] = TRACKED,
) -> Ticket:
    when = _now(now)
    comment = (comment or "").strip()
    with transaction.atomic():
        ticket = access.get_visible_ticket(actor, ticket_ref, for_update=True)
        transition = lifecycle.check(ticket, actor, name)
        if transition.comment_required and not comment:
            raise InvalidInput("comment", "required", f"a comment (reason) is required to {name}")
        before = audit.snapshot(ticket, tracked)
        data = mutate(ticket, when) if mutate else None
        lifecycle.apply(ticket, actor, transition, now=when, comment=comment, data=data)
        audit.record(actor, f"ticket.{name}", ticket, changes=audit.diff(before, audit.snapshot(ticket, tracked)), at=when)
    return ticket


# --- registration -------------------------------------------------------------------


def do_create_ticket(actor: User, data: Mapping[str, Any], *, register: bool = True, now: dt.datetime | None = None) -> Ticket:
    """Record an appeal: a draft, or (default) registered at once.

    Every check and the dictionary look-ups (cached) run before the transaction; inside
    it (on SQLite the write lock is taken at its BEGIN) only the statements: citizen
    look-up (and its INSERT for a new phone), number, ticket, both timeline events in one
    INSERT, the audit rows (ticket, and citizen when created or completed) in one INSERT.
    """
    when = _now(now)
    if actor.role not in lifecycle.INTAKE:
        raise Forbidden(f"role {Role(actor.role).label} may not register tickets")
    for attempt in range(5):
        fields = check_ticket_fields(data)
        id_number = fields.pop("id_number", "")
        ticket = rows.build(
            Ticket, query_code=new_query_code(), registered_by=actor, created_at=when, registered_at=when if register else None, **fields
        )
        # The audit row is built before the write lock: every tracked field is final.
        lifecycle.initial_state(ticket, register=register)
        created = audit.entry(actor, "ticket.create", None, object_type=Ticket._meta.label_lower,
                              changes=audit.diff({}, audit.snapshot(ticket, TRACKED)), at=when)
        # The INSERTs' parameters are computed here too: inside the transaction only the
        # citizen, the number and the new ids are filled in (lib.rows.Insert).
        new_ticket = lifecycle.prepare_create(ticket, actor, now=when, register=register)
        audit_insert = rows.Insert([created], late=("object_id", "object_repr"))
        number = number_ahead(when)
        try:
            with transaction.atomic():
                ticket.citizen, trail = _citizen_for(actor, fields["contact_phone"], fields.get("citizen_name", ""), id_number, when)
                ticket.number = number or next_ticket_number(when)
                new_ticket.write()
                created.object_id, created.object_repr = str(ticket.pk), str(ticket)
                if trail:
                    audit.record_all([*trail, created])
                else:
                    audit_insert.run()
            return ticket
        except IntegrityError:
            # A query-code collision (about 1 in 10^11), or a dictionary entry deleted
            # since this process cached it: forget the cache and try the whole thing again
            # (one ticket number of the day is skipped).
            cache.clear(cache.DICTIONARY)
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def do_register(ticket_ref: int | str, actor: User, *, now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> None:
        t.registered_at = when

    return _act(ticket_ref, actor, "register", now=now, mutate=mutate)


def do_update_ticket(ticket_ref: int | str, actor: User, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Ticket:
    """Correct the appeal's fields. A changed ``contact_phone`` moves the ticket to the
    citizen of the new number, found or created as registration does (with the ticket's
    caller name and the given ID number; a ``citizen.create``/``citizen.update`` audit
    row); the ticket's audit row records the citizen link (``citizen``: old id, new id)
    and its timeline event names ``citizen`` among the fields. The previous citizen is
    left as it is. A given ``id_number`` corrects the (new) citizen's."""
    fields = check_ticket_fields(data, partial=True)
    id_number = fields.pop("id_number", None)

    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        new_phone = "contact_phone" in fields and fields["contact_phone"] != t.contact_phone
        for key, value in fields.items():
            setattr(t, key, value)
        changed = sorted(fields)
        if new_phone:
            citizen, trail = _citizen_in_savepoint(actor, t.contact_phone, t.citizen_name, id_number or "", when)
            audit.record_all(trail)
            if citizen.pk != t.citizen_id:
                t.citizen = citizen
                changed = sorted([*changed, "citizen"])
        if id_number and t.citizen_id:
            citizen = Citizen.objects.select_for_update().get(pk=t.citizen_id)
            if citizen.id_number != id_number:
                before = audit.snapshot(citizen, CITIZEN_AUDIT_FIELDS)
                citizen.id_number = id_number
                citizen.save(update_fields=["id_number"])
                audit.record(actor, "citizen.update", citizen, changes=audit.diff(before, audit.snapshot(citizen, CITIZEN_AUDIT_FIELDS)), at=when)
        return {"fields": changed}

    return _act(ticket_ref, actor, "update", now=now, mutate=mutate, tracked=[*TRACKED, "citizen"])


def do_resolve_on_spot(ticket_ref: int | str, actor: User, result: str, *, now: dt.datetime | None = None) -> Ticket:
    result = (result or "").strip()
    if not result:
        raise InvalidInput("result", "required", "the answer given to the citizen is required")

    def mutate(t: Ticket, when: dt.datetime) -> None:
        t.result, t.replied_at = result, when
        t.registered_at = t.registered_at or when

    return _act(ticket_ref, actor, "resolve_on_spot", now=now, mutate=mutate)


# --- dispatch and the department's side ---------------------------------------------------


def _department(value: Any, field: str) -> Department:
    errors: list[dict[str, str]] = []
    dept = _ref(Department, value, field, errors)
    if errors or dept is None:
        raise InvalidInput(field, "exists" if value not in (None, "") else "required", f"{field}: no active department {value!r}")
    if not dept.can_handle:
        raise InvalidInput(field, "can_handle", f"{dept.name} does not handle tickets")
    return dept


def do_dispatch(
    ticket_ref: int | str,
    actor: User,
    lead_department: Any,
    assisting_departments: Iterable[Any] = (),
    *,
    comment: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    lead = _department(lead_department, "lead_department")
    assists: list[Department] = []
    for value in assisting_departments or ():
        dept = _department(value, "assisting_departments")
        if dept.pk == lead.pk:
            raise InvalidInput("assisting_departments", "distinct_from_lead", "the lead department cannot also assist")
        if dept.pk not in {d.pk for d in assists}:
            assists.append(dept)

    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        t.lead_department, t.handler, t.dispatched_at = lead, None, when
        t.signed_at = None
        t.registered_at = t.registered_at or when
        deadlines.start_period(t, when, with_sign=True)
        TicketAssist.objects.filter(ticket=t).delete()
        TicketAssist.objects.bulk_create([TicketAssist(ticket=t, department=d) for d in assists])
        return {"lead_department": lead.name, "assisting_departments": [d.name for d in assists],
                "deadline": t.deadline.isoformat() if t.deadline else None}

    return _act(ticket_ref, actor, "dispatch", now=now, comment=comment, mutate=mutate)


def do_sign_for(ticket_ref: int | str, actor: User, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> None:
        t.signed_at = when
        if actor.role == Role.DEPT_HANDLER:
            t.handler = actor

    return _act(ticket_ref, actor, "sign_for", now=now, comment=comment, mutate=mutate)


def do_assign(ticket_ref: int | str, actor: User, handler_id: int, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        handler = User.objects.filter(pk=handler_id, is_active=True, role__in=list(DEPARTMENT_ROLES)).select_related("department").first()
        if handler is None or not access.in_lead_scope(handler, t):
            raise InvalidInput("handler", "in_lead_department", "the handler must be an active user of the lead department")
        t.handler = handler
        return {"handler": str(handler)}

    return _act(ticket_ref, actor, "assign", now=now, comment=comment, mutate=mutate)


def do_request_return(ticket_ref: int | str, actor: User, reason: str, *, now: dt.datetime | None = None) -> Ticket:
    return _act(ticket_ref, actor, "request_return", now=now, comment=reason)


def do_accept_return(ticket_ref: int | str, actor: User, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        returned_by = t.lead_department.name if t.lead_department else None
        t.lead_department, t.handler = None, None
        t.deadline = t.warn_at = t.sign_deadline = None
        return {"returned_by": returned_by}

    return _act(ticket_ref, actor, "accept_return", now=now, comment=comment, mutate=mutate)


def do_refuse_return(ticket_ref: int | str, actor: User, reason: str, *, now: dt.datetime | None = None) -> Ticket:
    return _act(ticket_ref, actor, "refuse_return", now=now, comment=reason)


def do_reply(ticket_ref: int | str, actor: User, result: str, *, now: dt.datetime | None = None) -> Ticket:
    result = (result or "").strip()
    if not result:
        raise InvalidInput("result", "required", "the handling result is required")
    if len(result) > 20000:
        raise InvalidInput("result", "max_length", "result must be at most 20000 characters")

    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        t.result, t.replied_at = result, when
        on_time = t.deadline is None or when <= t.deadline
        return {"on_time": on_time}

    return _act(ticket_ref, actor, "reply", now=now, comment=result, mutate=mutate)


def do_approve_reply(ticket_ref: int | str, actor: User, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    return _act(ticket_ref, actor, "approve_reply", now=now, comment=comment)


def do_send_back(ticket_ref: int | str, actor: User, reason: str, *, now: dt.datetime | None = None) -> Ticket:
    return _act(ticket_ref, actor, "send_back", now=now, comment=reason)


def do_callback(ticket_ref: int | str, actor: User, satisfaction: str, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    if satisfaction not in Satisfaction.values:
        raise InvalidInput("satisfaction", "choice", f"satisfaction must be one of {Satisfaction.values}")

    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        t.satisfaction = satisfaction
        return {"satisfaction": satisfaction}

    return _act(ticket_ref, actor, "callback", now=now, comment=comment, mutate=mutate)


def do_close(ticket_ref: int | str, actor: User, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> None:
        if t.satisfaction == Satisfaction.DISSATISFIED and not comment.strip():
            raise InvalidInput("comment", "required_when_dissatisfied", "closing a ticket the citizen is dissatisfied with needs a reason")
        t.closed_at = when

    return _act(ticket_ref, actor, "close", now=now, comment=comment, mutate=mutate)


def do_reopen(ticket_ref: int | str, actor: User, reason: str, *, now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        previous = t.satisfaction
        t.reopen_count += 1
        t.satisfaction, t.closed_at, t.replied_at = "", None, None
        if t.lead_department_id:
            deadlines.start_period(t, when, days=int(parameters.get("reopen_days")))
        return {"previous_satisfaction": previous}

    return _act(ticket_ref, actor, "reopen", now=now, comment=reason, mutate=mutate)


def do_merge(ticket_ref: int | str, actor: User, original_ref: int | str, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    when = _now(now)
    original = access.get_visible_ticket(actor, original_ref)
    if str(original.pk) == str(ticket_ref) or original.number == str(ticket_ref):
        raise InvalidInput("original", "different_ticket", "a ticket cannot be merged into itself")
    if original.status in (Status.MERGED, Status.VOIDED, Status.NOT_ACCEPTED, Status.DRAFT):
        raise InvalidInput("original", "valid_original", f"ticket {original.number} is {original.status} and cannot take duplicates")

    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        t.merged_into = original
        lifecycle.append_event(original, actor, "duplicate_merged", now=when, comment=comment, data={"duplicate": t.number})
        return {"original": original.number}

    return _act(ticket_ref, actor, "merge", now=when, comment=comment, mutate=mutate)


def do_void(ticket_ref: int | str, actor: User, reason: str, *, now: dt.datetime | None = None) -> Ticket:
    return _act(ticket_ref, actor, "void", now=now, comment=reason)


def do_not_accept(ticket_ref: int | str, actor: User, reason: str, *, now: dt.datetime | None = None) -> Ticket:
    return _act(ticket_ref, actor, "not_accept", now=now, comment=reason)


# --- urge, supervise, extensions, assisting departments -----------------------------------


def do_urge(ticket_ref: int | str, actor: User, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> None:
        t.urge_count += 1

    return _act(ticket_ref, actor, "urge", now=now, comment=comment, mutate=mutate)


def do_supervise(ticket_ref: int | str, actor: User, comment: str, *, now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        s = Supervision.objects.create(ticket=t, opened_by=actor, opened_at=when, comment=comment.strip())
        return {"supervision": s.pk}

    return _act(ticket_ref, actor, "supervise", now=now, comment=comment, mutate=mutate)


def _open_supervision(t: Ticket) -> Supervision:
    s = Supervision.objects.filter(ticket=t, closed_at__isnull=True).order_by("-opened_at").first()
    if s is None:
        raise InvalidInput("supervision", "open_supervision", "the ticket has no open supervision")
    return s


def do_answer_supervision(ticket_ref: int | str, actor: User, comment: str, *, now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        return {"supervision": _open_supervision(t).pk}

    return _act(ticket_ref, actor, "answer_supervision", now=now, comment=comment, mutate=mutate)


def do_close_supervision(ticket_ref: int | str, actor: User, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        s = _open_supervision(t)
        Supervision.objects.filter(pk=s.pk).update(closed_at=when)
        return {"supervision": s.pk}

    return _act(ticket_ref, actor, "close_supervision", now=now, comment=comment, mutate=mutate)


def do_request_extension(ticket_ref: int | str, actor: User, new_date: dt.date, reason: str, *, now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        if not isinstance(new_date, dt.date):
            raise InvalidInput("new_date", "date", "new_date must be a date (YYYY-MM-DD)")
        if t.deadline is None or new_date <= timezone.localtime(t.deadline).date():
            raise InvalidInput("new_date", "after_current_deadline", "new_date must be after the current deadline")
        if ExtensionRequest.objects.filter(ticket=t, status=ExtensionStatus.PENDING).exists():
            raise InvalidInput("ticket", "one_pending_extension", "an extension request is already pending")
        req = ExtensionRequest.objects.create(
            ticket=t, requested_by=actor, requested_at=when, reason=reason.strip(), requested_date=new_date, old_deadline=t.deadline
        )
        return {"extension": req.pk, "new_date": new_date.isoformat()}

    return _act(ticket_ref, actor, "request_extension", now=now, comment=reason, mutate=mutate)


def do_decide_extension(ticket_ref: int | str, actor: User, approve: bool, *, comment: str = "", now: dt.datetime | None = None) -> Ticket:
    name = "approve_extension" if approve else "refuse_extension"

    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        req = ExtensionRequest.objects.filter(ticket=t, status=ExtensionStatus.PENDING).first()
        if req is None:
            raise InvalidInput("extension", "pending_request", "there is no pending extension request")
        old = t.deadline
        if approve:
            deadlines.extend_to(t, req.requested_date)
        ExtensionRequest.objects.filter(pk=req.pk).update(
            status=ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED,
            decided_by=actor, decided_at=when, decision_comment=comment.strip(),
        )
        return {"extension": req.pk, "old_deadline": old.isoformat() if old else None,
                "new_deadline": t.deadline.isoformat() if t.deadline else None}

    return _act(ticket_ref, actor, name, now=now, comment=comment, mutate=mutate)


def do_assist_opinion(ticket_ref: int | str, actor: User, opinion: str, *, now: dt.datetime | None = None) -> Ticket:
    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        prefix = actor.department.path if actor.department else "~"
        assist = TicketAssist.objects.filter(ticket=t, department__path__startswith=prefix).first()
        if assist is None:
            raise Forbidden("only an assisting department may give an assisting opinion")
        TicketAssist.objects.filter(pk=assist.pk).update(opinion=opinion.strip())
        return {"department": assist.department.name}

    return _act(ticket_ref, actor, "assist_opinion", now=now, comment=opinion, mutate=mutate)


def check_attachment(name: str, content_type: str | None, data: bytes) -> str:
    """Return the verified content type or raise InvalidInput."""
    limit = settings.HOTLINE_ATTACHMENT_MAX_BYTES
    if not data:
        raise InvalidInput("file", "not_empty", "the file is empty")
    if len(data) > limit:
        raise InvalidInput("file", "max_size", f"the file is larger than {limit} bytes")
    ctype = (content_type or "").split(";")[0].strip().lower() or (mimetypes.guess_type(name)[0] or "")
    if ctype not in ALLOWED_ATTACHMENT_TYPES:
        raise InvalidInput("file", "allowed_type", f"files of type {ctype or 'unknown'} are not accepted")
    magic = _MAGIC.get(ctype)
    if magic and not any(data.startswith(m) for m in magic):
        raise InvalidInput("file", "content_matches_type", f"the file's content is not {ctype}")
    return ctype


def do_attach(ticket_ref: int | str, actor: User, name: str, content_type: str | None, data: bytes, *, now: dt.datetime | None = None) -> Attachment:
    """Store a checked file and link it to the ticket. The file is written first and
    removed again if the transaction fails, so no row points at a missing file and
    no file is left without its row."""
    ctype = check_attachment(name, content_type, data)
    safe_name = PurePath(name.replace("\\", "/")).name[:200] or "file"
    created: list[Attachment] = []
    storage = Attachment._meta.get_field("file").storage
    stored_name: list[str] = []

    def mutate(t: Ticket, when: dt.datetime) -> dict[str, Any]:
        att = Attachment(ticket=t, original_name=safe_name, content_type=ctype, size=len(data),
                         sha256=hashlib.sha256(data).hexdigest(), uploaded_by=actor, uploaded_at=when)
        suffix = PurePath(safe_name).suffix.lower()[:10]
        att.file.save(f"{t.number}-{secrets.token_hex(6)}{suffix}", ContentFile(data), save=False)
        stored_name.append(att.file.name)
        att.save()
        created.append(att)
        return {"attachment": att.pk, "name": safe_name, "size": len(data)}

    try:
        _act(ticket_ref, actor, "attach", now=now, mutate=mutate)
    except BaseException:
        for stored in stored_name:
            storage.delete(stored)
        raise
    return created[0]


def timeline(ticket: Ticket) -> list[TicketEvent]:
    return list(ticket.events.select_related("actor").order_by("at", "id"))


# --- historical import -------------------------------------------------------------------------

IMPORT_ROLES = lifecycle.TRANSITIONS["import_closed"].roles


def do_import_historical(
    actor: User,
    data: Mapping[str, Any],
    *,
    number: str | None,
    created_at: dt.datetime | None,
    closed_at: dt.datetime | None,
    lead_department: Any,
    result: str,
    satisfaction: str,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> Ticket | None:
    """Bring one closed ticket from the previous system in, keeping its number and
    times; it enters the timeline with an ``import_closed`` event."""
    when = _now(now)
    if created_at is None:
        raise InvalidInput("created_at", "required", "created_at is required")
    if created_at > when:
        raise InvalidInput("created_at", "not_in_future", "created_at lies in the future")
    closed = closed_at or created_at
    if closed < created_at:
        raise InvalidInput("closed_at", "after_created_at", "closed_at is before created_at")
    if number is not None and (not number.isdigit() or not 8 <= len(number) <= 20):
        raise InvalidInput("number", "digits", "number must be 8-20 digits")
    if number and Ticket.objects.filter(number=number).exists():
        raise InvalidInput("number", "unique", f"ticket {number} already exists")
    fields = check_ticket_fields(data)
    id_number = fields.pop("id_number", "")
    lead = None
    if lead_department not in (None, ""):
        lead = Department.objects.filter(code=str(lead_department).strip()).first() or Department.objects.filter(
            name=str(lead_department).strip()
        ).first()
        if lead is None:
            raise InvalidInput("lead_department", "exists", f"no department {lead_department!r}")
    transition = lifecycle.TRANSITIONS["import_closed"]
    if actor.role not in transition.roles:
        raise Forbidden("only team leaders and administrators may import historical tickets")
    if dry_run:
        return None
    with transaction.atomic():
        citizen, trail = _citizen_in_savepoint(actor, fields["contact_phone"], fields.get("citizen_name", ""), id_number, when)
        audit.record_all(trail)
        ticket = Ticket.objects.create(
            number=number or next_ticket_number(created_at), query_code=new_query_code(), citizen=citizen,
            registered_by=actor, created_at=created_at, registered_at=created_at, status=Status.DRAFT,
            lead_department=lead, result=(result or "").strip(), satisfaction=satisfaction,
            replied_at=closed, closed_at=closed, **fields,
        )
        lifecycle.append_event(ticket, actor, "create", now=created_at, from_status="", to_status=Status.DRAFT)
        lifecycle.apply(ticket, actor, transition, now=closed, comment="历史数据导入", data={"imported_at": when.isoformat()})
        audit.record(actor, "ticket.import", ticket, changes=audit.diff({}, audit.snapshot(ticket, TRACKED)), at=when)
    return ticket
