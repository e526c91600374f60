"""市民门户: the public pages (no login).

- Submit an appeal: phone required, an arithmetic captcha kept in the session
  (single use), and a limit of submissions per client address counted from the
  audit log (durable, shared by every web process). The appeal becomes a draft
  ticket through ``cases.actions.do_create_ticket`` acting as the portal's own
  account (inactive: it cannot log in); call-takers register it from 我的工作.
- Look up progress by query code + the last four digits of the phone: status,
  department and — once the center has reviewed it — the reply. Nothing else.
- Public knowledge answers (常见问题与办事指南): search and article pages through the
  knowledge app's anonymous read functions (``knowledge.queries.search`` /
  ``get_article`` with no user, ``knowledge.access.visible_articles(None, …)``):
  published, public, currently valid articles only, whoever is logged in.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.accounts import actions as account_actions
from hotline.accounts.models import Role, User
from hotline.audit.context import client_ip
from hotline.audit.models import AuditEntry
from hotline.cases import actions
from hotline.cases.models import Status, Ticket
from hotline.directory.models import District, ServiceType
from hotline.lib import clock
from hotline.lib.errors import InvalidInput, NotFound
from hotline.web import forms
from hotline.web.errors import field_errors

PORTAL_USERNAME = "portal"
#: What the citizen sees for each status (plainer than the staff labels).
PUBLIC_STATUS = {
    Status.DRAFT: gettext_lazy("已提交,等待受理"),
    Status.REGISTERED: gettext_lazy("已受理"),
    Status.RESOLVED: gettext_lazy("已答复"),
    Status.DISPATCHED: gettext_lazy("已转交承办单位"),
    Status.SIGNED: gettext_lazy("承办单位办理中"),
    Status.HANDLING: gettext_lazy("承办单位办理中"),
    Status.RETURN_REQUESTED: gettext_lazy("承办单位办理中"),
    Status.RETURNED: gettext_lazy("重新分派中"),
    Status.REPLIED: gettext_lazy("承办单位已答复,中心审核中"),
    Status.REVIEWED: gettext_lazy("已答复"),
    Status.CALLED_BACK: gettext_lazy("已回访"),
    Status.CLOSED: gettext_lazy("已办结"),
    Status.MERGED: gettext_lazy("已与相同诉求合并办理"),
    Status.VOIDED: gettext_lazy("已撤销"),
    Status.NOT_ACCEPTED: gettext_lazy("不予受理"),
}
#: States in which the reply has been checked by the center and may be shown.
REPLY_VISIBLE = {Status.RESOLVED, Status.REVIEWED, Status.CALLED_BACK, Status.CLOSED, Status.NOT_ACCEPTED}


def portal_user() -> User:
    """The account portal appeals are registered under: a call-taker role (so the
    intake rules apply) but inactive, so nobody can log in with it."""
    user = User.objects.filter(username=PORTAL_USERNAME).first()
    if user is None:
        with transaction.atomic():
            user = account_actions.do_create_user(
                None, {"username": PORTAL_USERNAME, "role": int(Role.CALL_TAKER), "display_name": "网上门户", "is_active": False},
                secrets.token_urlsafe(32),
            )
    return user


def new_captcha(request: HttpRequest) -> str:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    request.session["portal_captcha"] = str(a + b)
    return f"{a} + {b} = ?"


def check_captcha(request: HttpRequest, answer: str) -> None:
    expected = request.session.pop("portal_captcha", None)  # single use
    if not expected or (answer or "").strip() != expected:
        raise InvalidInput("captcha", "captcha", "wrong captcha answer")


def check_rate(request: HttpRequest, now: dt.datetime) -> None:
    limit = settings.HOTLINE_PORTAL_SUBMITS_PER_HOUR
    ip = client_ip(request)
    recent = AuditEntry.objects.filter(
        action="ticket.create", actor__username=PORTAL_USERNAME, ip=ip, at__gte=now - dt.timedelta(hours=1)
    ).count()
    if recent >= limit:
        raise InvalidInput("captcha", "rate_limit", f"at most {limit} appeals per hour from one address")


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "service_types": [(s.code, s.name) for s in ServiceType.objects.filter(active=True).order_by("sort", "code")],
        "districts": forms._entries(District, "—"),
        "captcha": new_captcha(request),
        "g": {},
        "errors": {},
        **extra,
    }


def portal_home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/portal.html", _context(request))


def portal_submit(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return portal_home(request)
    now = clock.now()
    p = request.POST
    data = {
        "contact_phone": (p.get("contact_phone") or "").strip(),
        "citizen_name": (p.get("citizen_name") or "").strip(),
        "source": "web",
        "service_type": (p.get("service_type") or "").strip(),
        "district": (p.get("district") or "").strip() or None,
        "address": (p.get("address") or "").strip(),
        "summary": (p.get("summary") or "").strip(),
        "content": (p.get("content") or "").strip(),
    }
    try:
        problems: list[dict[str, str]] = []
        for check in (lambda: check_captcha(request, p.get("captcha", "")), lambda: actions.check_ticket_fields(data)):
            try:  # the captcha and every field answered at once
                check()
            except InvalidInput as exc:
                problems += exc.errors
        if problems:
            raise InvalidInput.many(problems)
        check_rate(request, now)
        ticket = actions.do_create_ticket(portal_user(), data, register=False, now=now)
    except InvalidInput as exc:
        return render(request, "web/portal.html", _context(request, g=p, errors=field_errors(exc)), status=422)
    return render(request, "web/portal_done.html", {"t": ticket})


def portal_track(request: HttpRequest) -> HttpResponse:
    code = (request.GET.get("code") or "").strip().upper()
    tail = (request.GET.get("phone_tail") or "").strip()
    errors: dict[str, list[str]] = {}
    found = None
    if code or tail:
        key = f"portal-track:{client_ip(request)}"
        tries = cache.get_or_set(key, 0, 600)
        if tries >= settings.HOTLINE_PORTAL_LOOKUPS_PER_10MIN:
            errors = {"code": [str(_("查询过于频繁,请稍后再试"))]}
        elif not (len(tail) == 4 and tail.isdigit()):
            errors = {"phone_tail": [str(_("请输入联系电话后四位"))]}
        else:
            cache.incr(key)
            t = Ticket.objects.filter(query_code=code).select_related("lead_department").first()
            if t is None or not t.contact_phone.endswith(tail):
                errors = {"code": [str(_("查询码或电话不正确"))]}
            else:
                found = {
                    "number": t.number,
                    "status": PUBLIC_STATUS.get(Status(t.status), t.status),
                    "department": t.lead_department.name if t.lead_department_id and t.lead_department else "",
                    "reply": t.result if t.status in REPLY_VISIBLE else "",
                    "summary": t.summary,
                    "created_at": t.created_at,
                    "closed_at": t.closed_at,
                }
    return render(request, "web/portal_track.html", {"code": code, "tail": tail, "found": found, "errors": errors},
                  status=422 if errors else 200)


# --- public knowledge answers ------------------------------------------------------------------

#: Results per search, and articles listed on the knowledge page before a search.
KNOWLEDGE_RESULTS = 10


def portal_knowledge(request: HttpRequest) -> HttpResponse:
    """Search the public knowledge base; without a query, the newest public answers.
    Always anonymous (``user=None``): a logged-in staff member sees no internal article here."""
    from hotline.knowledge import access as kb_access
    from hotline.knowledge import queries as kb

    now = clock.now()
    q = (request.GET.get("q") or "").strip()
    errors: dict[str, list[str]] = {}
    hits: list[dict[str, Any]] = []
    latest: list[Any] = []
    if q:
        try:
            hits = kb.search(None, q, now, limit=KNOWLEDGE_RESULTS)["items"]
        except InvalidInput as exc:
            errors = field_errors(exc)
    else:
        latest = list(kb_access.visible_articles(None, now).order_by("-updated_at", "-id")[:KNOWLEDGE_RESULTS])
    return render(request, "web/portal_knowledge.html", {"q": q, "hits": hits, "latest": latest, "errors": errors, "searched": bool(q)},
                  status=422 if errors else 200)


def portal_article(request: HttpRequest, article_id: int) -> HttpResponse:
    from hotline.knowledge import queries as kb

    try:
        article = kb.get_article(None, article_id, clock.now())
    except NotFound:
        raise Http404("no such public article") from None
    return render(request, "web/portal_article.html", {"a": article})
