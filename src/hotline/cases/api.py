"""Ticket endpoints: create, read, search, export/import, and one endpoint per action.

Thin: parse, call ``cases.actions``, serialise. Mounted at /api/tickets.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Field, Status, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import NinjaJSONEncoder

from hotline.cases import access, actions, exports, imports, queries, serializers
from hotline.cases.models import Satisfaction, Urgency
from hotline.cases.workdays import current_calendar
from hotline.lib import clock
from hotline.lib.errors import InvalidInput, NotFound

router = Router(tags=["tickets"])


# --- schemas -------------------------------------------------------------------------------


class Entry(Schema):
    id: int
    code: str | None = None
    name: str


class TicketIn(Schema):
    citizen_name: str = Field("", max_length=64, description="来电人姓名")
    contact_phone: str = Field(..., description="联系电话")
    id_number: str = Field("", description="身份证号 (optional)")
    confidential: bool = Field(False, description="来电人要求保密")
    source: str | int = Field(..., description="受理渠道 code or id")
    service_type: str | int = Field(..., description="诉求类型 code or id")
    category: str | int | None = Field(None, description="诉求分类 code or id")
    district: str | int | None = None
    address: str = ""
    longitude: float | None = None
    latitude: float | None = None
    summary: str = Field(..., description="诉求摘要 (≤200)")
    content: str = Field(..., description="诉求内容")
    urgency: Urgency = Urgency.NORMAL
    leader_instruction: str = ""
    recording_ref: str = ""
    draft: bool = Field(False, description="true keeps it as a draft (not yet registered)")


class TicketPatch(Schema):
    citizen_name: str | None = None
    contact_phone: str | None = None
    id_number: str | None = None
    confidential: bool | None = None
    source: str | int | None = None
    service_type: str | int | None = None
    category: str | int | None = None
    district: str | int | None = None
    address: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    summary: str | None = None
    content: str | None = None
    urgency: Urgency | None = None
    leader_instruction: str | None = None
    recording_ref: str | None = None


class TicketSummaryOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    citizen_name: str
    contact_phone: str
    source: Entry | None
    service_type: Entry | None
    category: Entry | None
    district: Entry | None
    address: str
    summary: str
    urgency: str
    lead_department: Entry | None
    handler: dict[str, Any] | None
    created_at: dt.datetime
    dispatched_at: dt.datetime | None
    deadline: dt.datetime | None
    colour: str | None = Field(None, description="green / yellow / red while a department holds the ticket")
    workdays_left: int | None
    satisfaction: str
    urge_count: int


class TicketOut(TicketSummaryOut):
    query_code: str | None
    confidential: bool
    id_number: str
    citizen_tags: list[str]
    citizen_blacklisted: bool
    longitude: float | None
    latitude: float | None
    content: str
    leader_instruction: str
    assisting_departments: list[dict[str, Any]]
    registered_at: dt.datetime | None
    signed_at: dt.datetime | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    sign_deadline: dt.datetime | None
    warn_at: dt.datetime | None
    deadline_days: int | None
    result: str
    recording_ref: str
    merged_into: str | None
    reopen_count: int
    version: int
    open_supervision: bool
    pending_extension: dict[str, Any] | None
    attachments: list[dict[str, Any]]
    allowed_actions: list[str]


class TicketPage(Schema):
    count: int
    count_capped: bool = Field(
        description=f"true when more tickets match than were counted: {queries.COUNT_CAP}, or {queries.FREE_TEXT_COUNT_CAP} with free text (q)"
    )
    page: int
    page_size: int
    items: list[TicketSummaryOut]


class EventOut(Schema):
    id: int
    at: dt.datetime
    kind: str
    label: str
    actor_name: str
    from_status: str
    to_status: str
    comment: str
    data: dict[str, Any]


class ListParams(Schema):
    number: str | None = None
    q: str | None = Field(None, description="free text in summary, content and address")
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    source: str | None = None
    service_type: str | None = None
    category: str | None = Field(None, description="a category includes its sub-categories")
    district: str | None = None
    lead_department: str | None = None
    assisting_department: str | None = None
    include_subdepartments: bool = True
    handler: int | None = None
    status: str | None = Field(None, description="comma-separated statuses")
    colour: str | None = None
    urgency: str | None = None
    phone: str | None = None
    sort: str = "-created_at"
    page: int = 1
    page_size: int = 20


class CommentIn(Schema):
    comment: str = Field("", max_length=4000)


class ReasonIn(Schema):
    reason: str = Field(..., max_length=4000, description="required")


class DispatchIn(Schema):
    lead_department: int | str
    assisting_departments: list[int | str] = []
    comment: str = Field("", max_length=4000)


class ResultIn(Schema):
    result: str = Field(..., description="handling result / answer given")


class AssignIn(Schema):
    handler_id: int
    comment: str = ""


class CallbackIn(Schema):
    satisfaction: Satisfaction
    comment: str = Field("", max_length=4000)


class MergeIn(Schema):
    original: int | str = Field(..., description="id or number of the original ticket")
    comment: str = ""


class ExtensionIn(Schema):
    new_date: dt.date
    reason: str = Field(..., max_length=4000)


# --- reading -------------------------------------------------------------------------------


@router.get("", response=TicketPage, summary="Search tickets (combined filters, sorting, pagination)")
def list_tickets(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    now = clock.now()
    f = queries.filter_from_params(params)
    _, count, capped, page = queries.search(request.user, f, now)  # type: ignore[arg-type]
    cal = current_calendar()
    return {
        "count": count,
        "count_capped": capped,
        "page": f.page,
        "page_size": f.page_size,
        "items": [serializers.ticket_summary(t, request.user, now, cal) for t in page],  # type: ignore[arg-type]
    }


@router.get("/export.csv", summary="Export the filtered list as CSV (UTF-8 with BOM for Excel)")
def export_csv(request: HttpRequest, params: Query[ListParams]) -> StreamingHttpResponse:
    return exports.csv_response(request.user, queries.filter_from_params(params), clock.now())  # type: ignore[arg-type]


@router.get("/export.xlsx", summary="Export the filtered list as XLSX")
def export_xlsx(request: HttpRequest, params: Query[ListParams]) -> HttpResponse:
    return exports.xlsx_response(request.user, queries.filter_from_params(params), clock.now())  # type: ignore[arg-type]


@router.post("/import", summary="Import historical tickets from XLSX; returns a per-row report")
def import_xlsx(request: HttpRequest, file: File[UploadedFile], dry_run: bool = False) -> dict[str, Any]:
    data = file.read(imports.MAX_BYTES + 1)
    return imports.import_xlsx(request.user, data, dry_run=dry_run)  # type: ignore[arg-type]


@router.post("", response={201: TicketOut}, summary="Register an appeal as a ticket (or save a draft)")
def create_ticket(request: HttpRequest, payload: TicketIn) -> HttpResponse:
    data = payload.dict()
    draft = data.pop("draft")
    now = clock.now()
    ticket = actions.do_create_ticket(request.user, data, register=not draft, now=now)  # type: ignore[arg-type]
    # ``ticket_detail`` builds exactly TicketOut's fields with JSON-ready values, so the
    # answer is rendered directly, without validating it again against TicketOut (about
    # a tenth of a registration's CPU; a test checks both renderings are equal).
    body = serializers.ticket_detail(ticket, request.user, now, new=True)  # type: ignore[arg-type]
    return HttpResponse(json.dumps(body, cls=NinjaJSONEncoder), status=201, content_type="application/json; charset=utf-8")


@router.get("/{ref}", response=TicketOut, summary="One ticket (by id or number)")
def get_ticket(request: HttpRequest, ref: str) -> dict[str, Any]:
    ticket = access.get_visible_ticket(request.user, ref)  # type: ignore[arg-type]
    return serializers.ticket_detail(ticket, request.user, clock.now())  # type: ignore[arg-type]


@router.get("/{ref}/timeline", response=list[EventOut], summary="Every event of the ticket, oldest first")
def get_timeline(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    ticket = access.get_visible_ticket(request.user, ref)  # type: ignore[arg-type]
    return [serializers.event_out(e) for e in actions.timeline(ticket)]


@router.patch("/{ref}", response=TicketOut, summary="Correct a ticket's fields (before dispatch)")
def update_ticket(request: HttpRequest, ref: str, payload: TicketPatch) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    if not data:
        raise InvalidInput("body", "not_empty", "send at least one field to change")
    return _done(request, actions.do_update_ticket(ref, request.user, data))  # type: ignore[arg-type]


@router.get("/{ref}/attachments/{attachment_id}", summary="Download an attachment")
def download_attachment(request: HttpRequest, ref: str, attachment_id: int) -> FileResponse:
    ticket = access.get_visible_ticket(request.user, ref)  # type: ignore[arg-type]
    att = ticket.attachments.filter(pk=attachment_id).first()
    if att is None:
        raise NotFound("attachment not found")
    return FileResponse(att.file.open("rb"), as_attachment=True, filename=att.original_name, content_type=att.content_type)


@router.post("/{ref}/attachments", response={201: dict[str, Any]}, summary="Attach a file (type and size checked)")
def add_attachment(request: HttpRequest, ref: str, file: File[UploadedFile]) -> Status[dict[str, Any]]:
    from django.conf import settings

    data = file.read(settings.HOTLINE_ATTACHMENT_MAX_BYTES + 1)
    att = actions.do_attach(ref, request.user, file.name or "file", file.content_type, data)  # type: ignore[arg-type]
    return Status(201, {"id": att.pk, "name": att.original_name, "content_type": att.content_type, "size": att.size})


# --- actions -------------------------------------------------------------------------------


def _done(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return serializers.ticket_detail(ticket, request.user, clock.now())  # type: ignore[arg-type]


@router.post("/{ref}/register", response=TicketOut, summary="受理: register a draft")
def register(request: HttpRequest, ref: str) -> dict[str, Any]:
    return _done(request, actions.do_register(ref, request.user))  # type: ignore[arg-type]


@router.post("/{ref}/resolve", response=TicketOut, summary="直接办结: answered by the call-taker")
def resolve(request: HttpRequest, ref: str, payload: ResultIn) -> dict[str, Any]:
    return _done(request, actions.do_resolve_on_spot(ref, request.user, payload.result))  # type: ignore[arg-type]


@router.post("/{ref}/dispatch", response=TicketOut, summary="派单: to a lead and assisting departments")
def dispatch(request: HttpRequest, ref: str, payload: DispatchIn) -> dict[str, Any]:
    return _done(request, actions.do_dispatch(ref, request.user, payload.lead_department, payload.assisting_departments, comment=payload.comment))  # type: ignore[arg-type]


@router.post("/{ref}/sign-for", response=TicketOut, summary="签收: the department acknowledges")
def sign_for(request: HttpRequest, ref: str, payload: CommentIn | None = None) -> dict[str, Any]:
    return _done(request, actions.do_sign_for(ref, request.user, comment=payload.comment if payload else ""))  # type: ignore[arg-type]


@router.post("/{ref}/assign", response=TicketOut, summary="分配承办人 inside the department")
def assign(request: HttpRequest, ref: str, payload: AssignIn) -> dict[str, Any]:
    return _done(request, actions.do_assign(ref, request.user, payload.handler_id, comment=payload.comment))  # type: ignore[arg-type]


@router.post("/{ref}/return", response=TicketOut, summary="申请退回: wrong dispatch, with reason")
def request_return(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_request_return(ref, request.user, payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/return/accept", response=TicketOut, summary="同意退回: ticket waits for re-dispatch")
def accept_return(request: HttpRequest, ref: str, payload: CommentIn | None = None) -> dict[str, Any]:
    return _done(request, actions.do_accept_return(ref, request.user, comment=payload.comment if payload else ""))  # type: ignore[arg-type]


@router.post("/{ref}/return/refuse", response=TicketOut, summary="不同意退回: back to the department, with reason")
def refuse_return(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_refuse_return(ref, request.user, payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/reply", response=TicketOut, summary="回复: the department reports the result")
def reply(request: HttpRequest, ref: str, payload: ResultIn) -> dict[str, Any]:
    return _done(request, actions.do_reply(ref, request.user, payload.result))  # type: ignore[arg-type]


@router.post("/{ref}/review/approve", response=TicketOut, summary="审核通过")
def approve_reply(request: HttpRequest, ref: str, payload: CommentIn | None = None) -> dict[str, Any]:
    return _done(request, actions.do_approve_reply(ref, request.user, comment=payload.comment if payload else ""))  # type: ignore[arg-type]


@router.post("/{ref}/review/send-back", response=TicketOut, summary="审核退回: back to the department")
def send_back(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_send_back(ref, request.user, payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/callback", response=TicketOut, summary="回访: record the citizen's satisfaction")
def callback(request: HttpRequest, ref: str, payload: CallbackIn) -> dict[str, Any]:
    return _done(request, actions.do_callback(ref, request.user, payload.satisfaction, comment=payload.comment))  # type: ignore[arg-type]


@router.post("/{ref}/close", response=TicketOut, summary="办结归档")
def close(request: HttpRequest, ref: str, payload: CommentIn | None = None) -> dict[str, Any]:
    return _done(request, actions.do_close(ref, request.user, comment=payload.comment if payload else ""))  # type: ignore[arg-type]


@router.post("/{ref}/reopen", response=TicketOut, summary="重办: after a dissatisfied callback or a review request")
def reopen(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_reopen(ref, request.user, payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/merge", response=TicketOut, summary="合并: mark as duplicate of an original")
def merge(request: HttpRequest, ref: str, payload: MergeIn) -> dict[str, Any]:
    return _done(request, actions.do_merge(ref, request.user, payload.original, comment=payload.comment))  # type: ignore[arg-type]


@router.post("/{ref}/void", response=TicketOut, summary="作废: registered by mistake")
def void(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_void(ref, request.user, payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/not-accept", response=TicketOut, summary="不予受理, with the reason")
def not_accept(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_not_accept(ref, request.user, payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/urge", response=TicketOut, summary="催办")
def urge(request: HttpRequest, ref: str, payload: CommentIn | None = None) -> dict[str, Any]:
    return _done(request, actions.do_urge(ref, request.user, comment=payload.comment if payload else ""))  # type: ignore[arg-type]


@router.post("/{ref}/supervise", response=TicketOut, summary="督办, with a comment")
def supervise(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_supervise(ref, request.user, payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/supervise/answer", response=TicketOut, summary="督办反馈 by the department")
def answer_supervision(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_answer_supervision(ref, request.user, payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/supervise/close", response=TicketOut, summary="结束督办")
def close_supervision(request: HttpRequest, ref: str, payload: CommentIn | None = None) -> dict[str, Any]:
    return _done(request, actions.do_close_supervision(ref, request.user, comment=payload.comment if payload else ""))  # type: ignore[arg-type]


@router.post("/{ref}/extension", response=TicketOut, summary="申请延期: new date and reason")
def request_extension(request: HttpRequest, ref: str, payload: ExtensionIn) -> dict[str, Any]:
    return _done(request, actions.do_request_extension(ref, request.user, payload.new_date, payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/extension/approve", response=TicketOut, summary="同意延期: the deadline moves")
def approve_extension(request: HttpRequest, ref: str, payload: CommentIn | None = None) -> dict[str, Any]:
    return _done(request, actions.do_decide_extension(ref, request.user, True, comment=payload.comment if payload else ""))  # type: ignore[arg-type]


@router.post("/{ref}/extension/refuse", response=TicketOut, summary="不同意延期, with reason")
def refuse_extension(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_decide_extension(ref, request.user, False, comment=payload.reason))  # type: ignore[arg-type]


@router.post("/{ref}/assist-opinion", response=TicketOut, summary="协办意见 from an assisting department")
def assist_opinion(request: HttpRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    return _done(request, actions.do_assist_opinion(ref, request.user, payload.reason))  # type: ignore[arg-type]
