"""Staff pages: login, desk, my work, ticket, search, department workbench.

Each view reads its input, calls ``cases.actions`` (or ``accounts.actions``) and
renders; errors from the actions are shown next to the fields with what the user
typed kept in the form.
"""

from __future__ import annotations

import logging

import datetime as dt
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.accounts import actions as account_actions
from hotline.accounts.models import DEPARTMENT_ROLES, Role, User
from hotline.cases import access, actions, deadlines, exports, lifecycle, queries
from hotline.cases.models import ExtensionStatus, Satisfaction, Status, Ticket, Urgency
from hotline.cases.serializers import event_out
from hotline.cases.workdays import current_calendar
from hotline.directory.models import Citizen, District, ServiceType, Source
from hotline.lib import clock
from hotline.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from hotline.web import forms, worklists
from hotline.web.models import ReminderKind, SavedSearch
from hotline.web.errors import field_errors
from hotline.web.ticket_actions import departments, perform

INTAKE = lifecycle.INTAKE
#: Rows shown in a to-do list or a department tab (Search pages through all of them).
LIST_ROWS = 50
TICKET_READERS = access.READ_ALL_ROLES | DEPARTMENT_ROLES

log = logging.getLogger(__name__)


def staff_page(roles: Any = None):  # type: ignore[no-untyped-def]
    """Login required; with ``roles``, only those roles (others get 403)."""

    def deco(view):  # type: ignore[no-untyped-def]
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if roles is not None and request.user.role not in roles:  # type: ignore[union-attr]
                return render(request, "web/error.html", {"title": _("无权访问"), "text": _("您的角色不能使用此页面。")}, status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound:
                return render(request, "web/error.html", {"title": _("未找到"), "text": _("工单不存在,或您无权查看。")}, status=404)
            except Forbidden:
                return render(request, "web/error.html", {"title": _("无权操作"), "text": _("您的角色或单位不能进行此操作。")}, status=403)

        return wrapper

    return deco


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith("/"):
        return target
    return fallback


def nav_for(user: User) -> list[tuple[str, str, str]]:
    """(url name, label, key) of the pages this role uses."""
    items = []
    if user.role in INTAKE:
        items.append(("web:desk", _("受理台"), "desk"))
    if user.role in TICKET_READERS:
        items.append(("web:work", _("我的工作"), "work"))
    if user.role in DEPARTMENT_ROLES:
        items.append(("web:dept", _("部门工作台"), "dept"))
    if user.role in TICKET_READERS:
        items.append(("web:search", _("工单查询"), "search"))
    if user.role == Role.ADMIN:
        items.append(("web:admin_departments", _("系统管理"), "admin"))
    if user.role == Role.AUDITOR:
        items.append(("web:audit", _("审计日志"), "audit"))
    return items


# --- login -----------------------------------------------------------------------------


def login_page(request: HttpRequest) -> HttpResponse:
    error = ""
    username = ""
    if request.method == "POST":
        username = (request.POST.get("username") or "").strip()
        password = request.POST.get("password") or ""
        try:
            if not username or not password:
                raise account_actions.LoginFailed("empty")
            user = account_actions.do_login(username, password, now=clock.now())
        except account_actions.AccountLocked:
            error = _("登录失败次数过多,账户已临时锁定,请稍后再试或联系管理员。")
        except account_actions.LoginFailed:
            error = _("用户名或密码错误。")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(_safe_next(request, reverse("web:home")))
    status = 401 if error else 200
    return render(request, "web/login.html", {"error": error, "username": username, "next": request.GET.get("next", "")}, status=status)


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.role in INTAKE:
        return redirect("web:desk")
    if user.role == Role.AUDITOR:
        return redirect("web:audit")
    if user.role in TICKET_READERS:
        return redirect("web:work")
    if user.role == Role.ADMIN:
        return redirect("web:admin_departments")
    if user.role == Role.AUDITOR:
        return redirect("web:audit")
    return render(request, "web/error.html", {"title": _("欢迎"), "text": _("您的角色暂无工作台页面。")})


# --- desk ------------------------------------------------------------------------------


@staff_page(INTAKE)
def desk(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    now = clock.now()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = forms.DeskForm(request.POST)
        op = request.POST.get("op") or "save"
        data = form.ticket_data()
        try:
            ref_errors = forms.recording_ref_errors(data["recording_ref"])
            if ref_errors:  # name every bad field at once, not the call reference alone
                try:
                    actions.check_ticket_fields({k: v for k, v in data.items() if k != "recording_ref"})
                except InvalidInput as exc:
                    ref_errors += exc.errors
                raise InvalidInput.many(ref_errors)
            with transaction.atomic():  # all or nothing: a refused dispatch leaves no half-registered ticket
                ticket = actions.do_create_ticket(user, data, register=True, now=now)
                if op == "resolve":
                    actions.do_resolve_on_spot(ticket.pk, user, request.POST.get("result", ""), now=now)
                elif op == "dispatch":
                    lead = request.POST.get("lead_department", "").strip()
                    actions.do_dispatch(ticket.pk, user, int(lead) if lead.isdigit() else lead, departments(request.POST),
                                        comment=request.POST.get("comment", ""), now=now)
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            _record_adopted_answer(user, request.POST.get("assist_article", ""), ticket, data.get("summary", ""), now)
            return redirect(f"{reverse('web:desk')}?done={ticket.pk}")
    else:
        form = forms.DeskForm(initial={"contact_phone": request.GET.get("phone", "")})
    done = None
    if request.GET.get("done", "").isdigit():
        done = access.visible_tickets(user).filter(pk=int(request.GET["done"])).first()
    return render(request, "web/desk.html", {"form": form, "errors": errors, "done": done, "page": "desk",
                                             "status_of": dict(Status.choices)}, status=422 if errors else 200)


def _record_adopted_answer(user: User, article: str, ticket: Any, query: str, now: Any) -> None:
    """Which article answered which ticket (issue 5): recorded once the ticket is saved.
    Best effort after the ticket's own transaction: an article retired or hidden in the
    meantime must not cost the call-taker the ticket they just registered."""
    if not article.strip().isdigit():
        return
    from hotline.knowledge import actions as knowledge_actions

    try:
        knowledge_actions.do_record_usage(user, int(article), ticket_ref=ticket.pk, query=query[:200], now=now)
    except (InvalidInput, NotFound, Forbidden) as exc:
        log.info("desk: adopted article %s not recorded for ticket %s: %s", article, ticket.pk, exc)


@staff_page(INTAKE)
def caller(request: HttpRequest) -> HttpResponse:
    """The caller panel of the desk: the citizen's tags and earlier tickets."""
    user: User = request.user  # type: ignore[assignment]
    phone = (request.GET.get("contact_phone") or request.GET.get("phone") or "").strip().replace(" ", "")
    now = clock.now()
    citizen = Citizen.objects.filter(phone=phone).order_by("pk").first() if len(phone) >= 5 else None
    tickets = (
        list(access.visible_tickets(user).filter(contact_phone=phone).select_related("lead_department", "service_type").order_by("-created_at")[:10])
        if len(phone) >= 5 else []
    )
    return render(request, "web/_caller.html", {
        "phone": phone, "citizen": citizen, "tickets": tickets,
        "blacklisted": bool(citizen and citizen.is_blacklisted(now)),
        "vip": bool(citizen and any(str(t).upper() in {"VIP", "重点", "重点人员"} for t in citizen.tags)),
    })


# --- my work -----------------------------------------------------------------------------


#: The columns a row of a list shows (``_rows``, ``web/_rows.html``, ``web/dept.html``):
#: the ticket table's wide text columns (content, result, …) stay on disk.
ROW_COLUMNS = ("id", "number", "status", "summary", "urge_count", "deadline", "warn_at", "handler_id", "lead_department_id",
               "created_at", "sign_deadline", "lead_department__name", "handler__display_name", "handler__username")


def _row_tickets(qs: Any) -> Any:
    return qs.select_related("lead_department", "handler").only(*ROW_COLUMNS)


def _first_rows(qs: Any, sort: str, by_status: Any = ()) -> list[Ticket]:
    """The first ``LIST_ROWS`` tickets of ``qs`` by ``sort`` (then id). With
    ``by_status`` (a department's list spanning several states), one query per state,
    merged here: SQLite then reads each state from the (lead_department, status) index
    instead of every ticket the department ever led through the lead_department index
    (a city bureau's 办理中: 23 ms -> 2 × 2 ms at 200,000 tickets)."""
    if len(by_status) < 2:
        return list(qs.order_by(sort, "id")[:LIST_ROWS])
    parts = [t for s in sorted(by_status) for t in qs.filter(status=s).order_by(sort, "id")[:LIST_ROWS]]
    parts.sort(key=lambda t: (getattr(t, sort) is None, getattr(t, sort) or dt.datetime.min.replace(tzinfo=dt.timezone.utc), t.pk))
    return parts[:LIST_ROWS]


def _rows(tickets: list[Ticket], now: dt.datetime) -> list[dict[str, Any]]:
    """Rows of a ticket list with what the template would otherwise compute per row
    (status label, link, deadline text): a 50-row list renders in a few ms."""
    cal = current_calendar()
    status_of = dict(Status.choices)
    link = reverse("web:ticket", args=[0])[: -len("0/")]
    rows = []
    for t in tickets:
        left = deadlines.workdays_left(t, now, cal) if t.status in deadlines.RUNNING_STATES else None
        colour = deadlines.colour_of(t, now)
        waiting_sign = t.status == Status.DISPATCHED and t.sign_deadline is not None
        rows.append({"t": t, "colour": colour, "left": left, "url": f"{link}{t.pk}/", "status": status_of.get(t.status, t.status),
                     "deadline": timezone.localtime(t.deadline).strftime("%m-%d %H:%M") if t.deadline else "",
                     "overdue": -left if left is not None and left < 0 else None,
                     # waiting to be signed for: the 1-working-day sign-for limit matters first
                     "sign": timezone.localtime(t.sign_deadline).strftime("%m-%d %H:%M") if waiting_sign else "",
                     "sign_late": waiting_sign and t.sign_deadline < now})
    return rows


@staff_page(TICKET_READERS)
def work(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    now = clock.now()
    lists = worklists.lists_for(user)
    base = access.visible_tickets(user)  # the department subtree looked up once per page
    counts = worklists.counts(user, lists, now, base)
    key = request.GET.get("list") or next((w.key for w in lists if counts[w.key]["total"]), lists[0].key if lists else "")
    current = worklists.BY_KEY.get(key)
    if current is not None and current not in lists:
        current = None
    rows: list[dict[str, Any]] = []
    if current is not None:
        qs = _row_tickets(current.queryset(user, now, base))
        rows = _rows(_first_rows(qs, current.sort, worklists.row_statuses(user, current)), now)
    return render(request, "web/work.html", {"lists": lists, "counts": counts, "current": current, "rows": rows, "page": "work",
                                             "limit": LIST_ROWS})


# --- ticket page ----------------------------------------------------------------------------


def _action_forms(ticket: Ticket, user: User, allowed: list[str], *, pending_extension: bool, open_supervision: bool) -> list[dict[str, Any]]:
    out = []
    for name in allowed:
        if name in forms.NOT_ON_TICKET_PAGE or name not in forms.ACTION_FIELDS:
            continue
        # The table allows these in the state; they only make sense with something to decide.
        if name in ("approve_extension", "refuse_extension") and not pending_extension:
            continue
        if name in ("answer_supervision", "close_supervision") and not open_supervision:
            continue
        t = lifecycle.TRANSITIONS[name]
        out.append({"name": name, "label": t.label, "fields": forms.ACTION_FIELDS[name], "comment_required": t.comment_required})
    return out


def _handlers(ticket: Ticket) -> list[User]:
    if not ticket.lead_department_id:
        return []
    return list(User.objects.filter(department_id=ticket.lead_department_id, role__in=list(DEPARTMENT_ROLES), is_active=True).order_by("username"))


def ticket_context(request: HttpRequest, ticket: Ticket, now: dt.datetime) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    allowed = lifecycle.allowed_actions(ticket, user)
    pending = ticket.extension_requests.filter(status=ExtensionStatus.PENDING).first()
    handling = forms.department_choices()  # once: the dispatch picker and the assisting list are the same departments
    supervision = ticket.supervisions.filter(closed_at__isnull=True).order_by("-opened_at").first()
    return {
        "t": ticket,
        "page": "ticket",
        "phone": access.phone_for(user, ticket, ticket.contact_phone),
        "query_code": ticket.query_code if user.role in access.FULL_PHONE_ROLES else None,
        "colour": deadlines.colour_of(ticket, now),
        "left": deadlines.workdays_left(ticket, now) if ticket.status in deadlines.RUNNING_STATES else None,
        "assists": list(ticket.assists.select_related("department")),
        "attachments": list(ticket.attachments.order_by("uploaded_at", "id")),
        "events": [_event(e) for e in actions.timeline(ticket)],
        "call": _call_reference(ticket),
        "pending_extension": pending,
        "open_supervision": supervision,
        "action_forms": _action_forms(ticket, user, allowed, pending_extension=pending is not None, open_supervision=supervision is not None),
        "departments": handling,
        "assist_choices": handling[1:],
        "handlers": [("", "—")] + [(str(h.pk), str(h)) for h in _handlers(ticket)],
        "satisfactions": [("", "—")] + list(Satisfaction.choices),
        "status_of": dict(Status.choices),
        "citizen_tags": list(ticket.citizen.tags) if ticket.citizen_id and ticket.citizen else [],
        "id_number": _id_number_for(user, ticket),
        "reminder_kinds": ReminderKind.choices,
        "edit_form": edit_form(user, ticket) if "update" in allowed else None,
        "version": ticket.version,
    }


def _event(e: Any) -> dict[str, Any]:
    """A timeline entry; dates the event's data carries (an approved extension's new
    deadline, the date a request asked for) as dates the template can show."""
    out = event_out(e)
    data = e.data if isinstance(e.data, dict) else {}
    new_deadline = parse_datetime(str(data["new_deadline"])) if data.get("new_deadline") else None
    out["new_deadline"] = timezone.localtime(new_deadline) if new_deadline and timezone.is_aware(new_deadline) else new_deadline
    out["new_date"] = parse_date(str(data["new_date"])) if data.get("new_date") else None
    return out


def _call_reference(ticket: Ticket) -> dict[str, Any] | None:
    """The ticket's call reference as people read it: when the call came in and how
    long it lasted (from its call record), not the raw SIP Call-ID; before the call
    record exists, a short reference."""
    ref = (ticket.recording_ref or "").strip()
    if not ref:
        return None
    from hotline.telephony.models import CallRecord
    from hotline.telephony.templatetags.telephony import call_ids

    ids = call_ids(ref)
    if not ids:
        return {"other": ref}
    call = CallRecord.objects.filter(call_id__in=ids).order_by("offered_at").values("offered_at", "duration").first()
    short = ids[0].split("@", 1)[0][:8]
    if call is None:
        return {"short": short}
    return {"short": short, "at": timezone.localtime(call["offered_at"]), "duration": int(round(call["duration"] or 0))}


def _id_number_for(user: User, ticket: Ticket) -> str:
    value = (ticket.citizen.id_number if ticket.citizen_id and ticket.citizen else "") or ""
    return value if access.sees_id_number(user) else access.mask_id_number(value)


def edit_form(user: User, ticket: Ticket, data: Any = None) -> forms.TicketEditForm:
    return forms.TicketEditForm(data, ticket=ticket, phone=access.sees_phone(user, ticket), id_number=access.sees_id_number(user))


#: What the ticket page shows of the ticket's relations, read with the ticket.
TICKET_PAGE_RELATIONS = ("source", "service_type", "category__parent", "district", "lead_department", "handler", "citizen", "merged_into")


def _page_ticket(user: User, ref: str) -> Ticket:
    """``access.get_visible_ticket`` (the same look-up and ``access.can_view``) with the
    relations the page shows joined in: one query instead of nine."""
    ticket = Ticket.objects.select_related(*TICKET_PAGE_RELATIONS).filter(**access.ticket_lookup(ref)).first()
    if ticket is None or not access.can_view(user, ticket):
        raise NotFound("ticket not found")
    return ticket


@staff_page(TICKET_READERS)
def ticket_page(request: HttpRequest, ref: str) -> HttpResponse:
    ticket = _page_ticket(request.user, ref)  # type: ignore[arg-type]
    return render(request, "web/ticket.html", ticket_context(request, ticket, clock.now()))


@staff_page(TICKET_READERS)
@require_POST
def ticket_action(request: HttpRequest, ref: str, name: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    ticket = access.get_visible_ticket(user, ref)
    now = clock.now()
    try:
        perform(name, ticket.pk, user, request.POST, request.FILES, now)
    except InvalidInput as exc:
        ctx = ticket_context(request, ticket, now)
        ctx.update({"open_action": name, "errors": field_errors(exc), "posted": request.POST})
        return render(request, "web/ticket.html", ctx, status=422)
    except IllegalTransition:
        ticket.refresh_from_db()
        ctx = ticket_context(request, ticket, now)
        ctx["banner"] = _("此操作在工单当前状态下不可用(可能已被他人处理),页面已刷新。")
        return render(request, "web/ticket.html", ctx, status=409)
    label = lifecycle.TRANSITIONS[name].label if name in lifecycle.TRANSITIONS else name
    messages.success(request, _("已完成:%(action)s") % {"action": label})
    return HttpResponseRedirect(_safe_next(request, reverse("web:ticket", args=[ticket.pk])))


@staff_page(TICKET_READERS)
@require_POST
def ticket_edit(request: HttpRequest, ref: str) -> HttpResponse:
    """修改工单: the changed fields go to ``cases.actions.do_update_ticket`` (state and role
    checked there, audited, one timeline event naming the fields). A refused save shows
    the page again with the edit form open, what was typed kept and each message next
    to its field; an edit of a ticket someone changed meanwhile is refused (``version``)."""
    user: User = request.user  # type: ignore[assignment]
    ticket = access.get_visible_ticket(user, ref)
    now = clock.now()
    form = edit_form(user, ticket, request.POST)
    changed = form.changes()
    try:
        with transaction.atomic():
            current = access.get_visible_ticket(user, ticket.pk, for_update=True)
            if str(current.version) != (request.POST.get("version") or "").strip():
                raise IllegalTransition("update", current.status, [])
            if changed:
                actions.do_update_ticket(ticket.pk, user, changed, now=now)
    except InvalidInput as exc:
        ctx = ticket_context(request, ticket, now)
        ctx.update({"edit_form": form, "edit_open": True, "errors": field_errors(exc), "version": request.POST.get("version", "")})
        return render(request, "web/ticket.html", ctx, status=422)
    except IllegalTransition:
        ticket.refresh_from_db()
        ctx = ticket_context(request, ticket, now)
        if ctx["edit_form"] is not None:  # still editable: keep what was typed, against the new version
            ctx.update({"edit_form": edit_form(user, ticket, request.POST), "edit_open": True})
        ctx["banner"] = _("工单已被他人修改或办理,页面已刷新;您填写的内容仍保留在修改表单中,请核对后重新保存。") if ctx["edit_form"] is not None \
            else _("此操作在工单当前状态下不可用(可能已被他人处理),页面已刷新。")
        return render(request, "web/ticket.html", ctx, status=409)
    messages.success(request, _("已保存修改") if changed else _("没有修改任何内容"))
    return HttpResponseRedirect(reverse("web:ticket", args=[ticket.pk]))


@staff_page(TICKET_READERS)
def transfer_form(request: HttpRequest, ref: str) -> HttpResponse:
    """办理转送单 as PDF (personal data masked as on the page)."""
    from hotline.web import transfer_form as pdf

    ticket = access.get_visible_ticket(request.user, ref)  # type: ignore[arg-type]
    response = HttpResponse(pdf.render(ticket, request.user, clock.now()), content_type="application/pdf")  # type: ignore[arg-type]
    response["Content-Disposition"] = f'inline; filename="transfer-{ticket.number}.pdf"'
    return response


@staff_page(TICKET_READERS)
def attachment(request: HttpRequest, ref: str, attachment_id: int) -> FileResponse:
    ticket = access.get_visible_ticket(request.user, ref)  # type: ignore[arg-type]
    att = ticket.attachments.filter(pk=attachment_id).first()
    if att is None:
        raise NotFound("attachment not found")
    return FileResponse(att.file.open("rb"), as_attachment=True, filename=att.original_name, content_type=att.content_type)


# --- search ------------------------------------------------------------------------------------

SEARCH_FIELDS = ["number", "q", "phone", "status", "source", "service_type", "category", "district", "lead_department",
                 "colour", "urgency", "created_from", "created_to", "sort"]


def _day(value: str, field: str, *, end: bool = False) -> dt.datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "date", f"{field} must be a date") from None
    if end:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def search_filter(params: Any) -> queries.TicketFilter:
    page = params.get("page", "1")
    return queries.TicketFilter(
        number=params.get("number") or None, q=params.get("q") or None, phone=params.get("phone") or None,
        status=[s for s in params.getlist("status") if s], source=params.get("source") or None,
        service_type=params.get("service_type") or None, category=params.get("category") or None,
        district=params.get("district") or None, lead_department=params.get("lead_department") or None,
        colour=params.get("colour") or None, urgency=params.get("urgency") or None,
        created_from=_day(params.get("created_from", ""), "created_from"),
        created_to=_day(params.get("created_to", ""), "created_to", end=True),
        sort=params.get("sort") or "-created_at", page=int(page) if page.isdigit() else 1, page_size=20,
    )


@staff_page(TICKET_READERS)
def search(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    now = clock.now()
    errors: dict[str, list[str]] = {}
    rows: list[dict[str, Any]] = []
    count, capped, f = 0, False, None
    try:
        f = search_filter(request.GET)
        _, count, capped, page = queries.search(user, f, now)
        rows = _rows(page, now)
    except InvalidInput as exc:
        errors = field_errors(exc)
    params = [(k, v) for k in SEARCH_FIELDS for v in request.GET.getlist(k) if v]
    base = urlencode([(k, v) for k, v in params if k != "sort"])
    query = urlencode(params)
    pages = (count + 19) // 20 if count else 0
    current = f.page if f else 1
    return render(request, "web/search.html", {
        "page": "search", "rows": rows, "count": count, "capped": capped, "errors": errors, "g": request.GET,
        "statuses": Status.choices, "sources": forms._entries(Source, "—"), "service_types": forms._entries(ServiceType, "—"),
        "categories": forms.category_choices(), "districts": forms._entries(District, "—"),
        "departments": forms.department_choices(handling_only=False), "urgencies": [("", "—")] + list(Urgency.choices),
        "selected_status": request.GET.getlist("status"), "sort": request.GET.get("sort") or "-created_at",
        "base_query": base, "query": query, "current_page": current, "pages": pages,
        "prev_page": current - 1 if current > 1 else None, "next_page": current + 1 if current < pages else None,
        "saved": list(SavedSearch.objects.filter(owner=user)), "save_errors": {},
    }, status=422 if errors else 200)


@staff_page(TICKET_READERS)
@require_POST
def search_save(request: HttpRequest) -> HttpResponse:
    from hotline.web import actions as web_actions

    query = request.POST.get("query", "")
    try:
        web_actions.do_save_search(request.user, request.POST.get("name", ""), query, now=clock.now())  # type: ignore[arg-type]
    except InvalidInput as exc:
        messages.error(request, "; ".join(m for ms in field_errors(exc).values() for m in ms))
    else:
        messages.success(request, _("已保存查询条件"))
    return HttpResponseRedirect(f"{reverse('web:search')}?{query}")


@staff_page(TICKET_READERS)
@require_POST
def search_delete(request: HttpRequest, search_id: int) -> HttpResponse:
    from hotline.web import actions as web_actions

    web_actions.do_delete_search(request.user, search_id, now=clock.now())  # type: ignore[arg-type]
    return HttpResponseRedirect(reverse("web:search"))


@staff_page(TICKET_READERS)
def search_export(request: HttpRequest) -> HttpResponse:
    try:
        f = search_filter(request.GET)
    except InvalidInput:
        return redirect(f"{reverse('web:search')}?{request.GET.urlencode()}")
    return exports.xlsx_response(request.user, f, clock.now())  # type: ignore[arg-type]


# --- department workbench -------------------------------------------------------------------------

DEPT_TABS = [
    ("to_sign", _("待签收"), [Status.DISPATCHED]),
    ("handling", _("办理中"), [Status.SIGNED, Status.HANDLING]),
    ("returning", _("退回申请中"), [Status.RETURN_REQUESTED]),
    ("replied", _("已回复待审核"), [Status.REPLIED]),
]


@staff_page(DEPARTMENT_ROLES)
def dept(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    now = clock.now()
    tab = request.GET.get("tab") or "to_sign"
    tabs = []
    base = access.visible_tickets(user).filter(worklists._lead(user))
    current_statuses: list[str] = []
    per_status = worklists.per_status(user, base, [s for _k, _l, states in DEPT_TABS for s in states])  # one query for the tabs
    for key, label, statuses in DEPT_TABS:
        tabs.append({"key": key, "label": label, "count": sum(per_status.get(s, (0,))[0] for s in statuses)})
        if key == tab:
            current_statuses = list(statuses)
    qs = _row_tickets(base.filter(status__in=current_statuses))
    rows = _rows(_first_rows(qs, "deadline", current_statuses), now)
    # Every row is in the user's lead scope (``base``), so role and state decide; the
    # action itself checks again when the button is pressed.
    sign, assign = lifecycle.TRANSITIONS["sign_for"], lifecycle.TRANSITIONS["assign"]
    for row in rows:
        status = row["t"].status
        row["can_assign"] = status in assign.sources and user.role in assign.roles
        row["can_sign"] = status in sign.sources and user.role in sign.roles
        row["handler_value"] = str(row["t"].handler_id or "")
        row["assign_id"] = f"assign-{row['t'].pk}"
    handlers = list(User.objects.filter(department_id=user.department_id, role__in=list(DEPARTMENT_ROLES), is_active=True).order_by("username"))
    # one <select> per row, rendered in Python (``{% select %}``), not option by option
    handler_choices = [("", _("承办人"))] + [(str(h.pk), str(h)) for h in handlers]
    return render(request, "web/dept.html", {"page": "dept", "tabs": tabs, "tab": tab, "rows": rows, "handler_choices": handler_choices,
                                             "is_manager": user.role == Role.DEPT_MANAGER})


# --- reminders ------------------------------------------------------------------------------------------


def _reminder_panel(request: HttpRequest, errors: dict[str, list[str]] | None = None, status: int = 200) -> HttpResponse:
    from hotline.web import actions as web_actions
    from hotline.web.models import ReminderKind, SavedSearch

    user: User = request.user  # type: ignore[assignment]
    now = clock.now()
    return render(request, "web/_reminders.html", {
        "due": web_actions.due_reminders(user, now), "upcoming": web_actions.upcoming_reminders(user, now),
        "kinds": ReminderKind.choices, "errors": errors or {}, "posted": request.POST if errors else {},
        "next": _safe_next(request, reverse("web:home")),
    }, status=status)


@staff_page(TICKET_READERS)
def reminders(request: HttpRequest) -> HttpResponse:
    """The reminder panel (polled by the desk and My work): due ones pop up."""
    return _reminder_panel(request)


@staff_page(TICKET_READERS)
@require_POST
def reminder_new(request: HttpRequest) -> HttpResponse:
    from hotline.web import actions as web_actions

    try:
        web_actions.do_create_reminder(request.user, request.POST, now=clock.now())  # type: ignore[arg-type]
    except InvalidInput as exc:
        if request.headers.get("HX-Request"):
            return _reminder_panel(request, field_errors(exc), status=422)
        messages.error(request, "; ".join(m for ms in field_errors(exc).values() for m in ms))
        return HttpResponseRedirect(_safe_next(request, reverse("web:home")))
    if request.headers.get("HX-Request"):
        return _reminder_panel(request)
    messages.success(request, _("提醒已添加"))
    return HttpResponseRedirect(_safe_next(request, reverse("web:home")))


@staff_page(TICKET_READERS)
@require_POST
def reminder_done(request: HttpRequest, reminder_id: int) -> HttpResponse:
    from hotline.web import actions as web_actions

    web_actions.do_finish_reminder(request.user, reminder_id, now=clock.now())  # type: ignore[arg-type]
    if request.headers.get("HX-Request"):
        return _reminder_panel(request)
    return HttpResponseRedirect(_safe_next(request, reverse("web:home")))
