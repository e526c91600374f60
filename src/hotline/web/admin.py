"""管理 pages: departments, parameters, holiday calendar, users and roles (system
administrators), and the audit log viewer (auditors).

Every change goes through ``directory.actions`` / ``accounts.actions`` (checked,
audited, applied without restart: the next request reads the new data).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.accounts import actions as account_actions
from hotline.accounts.models import Role, User
from hotline.audit.models import AuditEntry
from hotline.directory import actions as directory_actions
from hotline.directory import parameters
from hotline.directory.models import Department, DepartmentKind
from hotline.lib import clock
from hotline.lib.errors import InvalidInput, NotFound
from hotline.web import forms
from hotline.web.errors import field_errors
from hotline.web.views import staff_page

ADMINS = frozenset({Role.ADMIN})
AUDITORS = frozenset({Role.AUDITOR})


def _flag(post: Any, name: str) -> bool:
    return post.get(name) in ("on", "true", "1")


# --- departments -------------------------------------------------------------------------------


def _department_data(post: Any) -> dict[str, Any]:
    parent = (post.get("parent") or "").strip()
    sort = (post.get("sort") or "0").strip()
    return {
        "code": (post.get("code") or "").strip(), "name": (post.get("name") or "").strip(), "kind": post.get("kind") or "",
        "parent": int(parent) if parent.isdigit() else (parent or None), "duty": post.get("duty") or "",
        "phone": (post.get("phone") or "").strip(), "can_handle": _flag(post, "can_handle"), "active": _flag(post, "active"),
        "sort": int(sort) if sort.lstrip("-").isdigit() else sort,
    }


@staff_page(ADMINS)
def departments(request: HttpRequest, dept_id: int | None = None) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    editing = Department.objects.filter(pk=dept_id).first() if dept_id else None
    if dept_id and editing is None:
        raise NotFound("department not found")
    errors: dict[str, list[str]] = {}
    posted: Any = None
    if request.method == "POST":
        posted = request.POST
        data = _department_data(request.POST)
        try:
            if editing is None:
                dept = directory_actions.do_create_department(user, data, now=clock.now())
            else:
                dept = directory_actions.do_update_department(user, editing.pk, data, now=clock.now())
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            messages.success(request, _("已保存:%(name)s") % {"name": dept.name})
            return redirect("web:admin_departments")
    values = posted or ({
        "code": editing.code, "name": editing.name, "kind": editing.kind, "parent": str(editing.parent_id or ""),
        "duty": editing.duty, "phone": editing.phone, "can_handle": "on" if editing.can_handle else "",
        "active": "on" if editing.active else "", "sort": editing.sort,
    } if editing else {"can_handle": "on", "active": "on", "sort": 0})
    tree = list(Department.objects.order_by("path"))
    return render(request, "web/admin_departments.html", {
        "page": "admin", "tree": tree, "editing": editing, "v": values, "errors": errors,
        "kinds": DepartmentKind.choices, "parents": forms.department_choices("—", handling_only=False),
    }, status=422 if errors else 200)


# --- parameters ------------------------------------------------------------------------------------


def _parameter_value(key: str, text: str) -> Any:
    kind = parameters.RULES[key][0]
    text = (text or "").strip()
    if kind is bool:
        return text in ("on", "true", "1")
    if kind is int:
        if not text.lstrip("-").isdigit():
            raise InvalidInput("value", "number", f"{key} must be a whole number")
        return int(text)
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise InvalidInput("value", "number", f"{key} must be a number") from None
    return text


PARAMETER_LABELS = {
    "warn_share": gettext_lazy("临期预警比例(剩余时限占比)"), "reopen_days": gettext_lazy("重办办理时限(工作日)"),
    "fallback_handle_days": gettext_lazy("无规则时的办理时限(工作日)"), "fallback_sign_days": gettext_lazy("无规则时的签收时限(工作日)"),
    "deadline_time": gettext_lazy("时限截止时刻(时:分)"), "auto_urge": gettext_lazy("临期/超期自动催办"),
    "duplicate_window_days": gettext_lazy("判重时间窗口(天)"), "recompute_inline_max": gettext_lazy("即时重算时限的工单上限"),
}


@staff_page(ADMINS)
def parameter_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    errors: dict[str, list[str]] = {}
    failed_key = ""
    if request.method == "POST":
        key = request.POST.get("key", "")
        try:
            if key not in parameters.RULES:
                raise NotFound("no such parameter")
            if request.POST.get("reset"):
                directory_actions.do_reset_parameter(user, key, now=clock.now())
            else:
                directory_actions.do_set_parameter(user, key, _parameter_value(key, request.POST.get("value", "")), now=clock.now())
        except InvalidInput as exc:
            errors, failed_key = field_errors(exc), key
        else:
            messages.success(request, _("参数已更新,立即生效:%(key)s") % {"key": key})
            return redirect("web:admin_parameters")
    rows = directory_actions.list_parameters(user)
    for row in rows:
        row["label"] = PARAMETER_LABELS.get(row["key"], row["key"])
        if row["key"] == failed_key:
            row["errors"] = errors.get("value", [])
            row["typed"] = request.POST.get("value", "")
    return render(request, "web/admin_parameters.html", {"page": "admin", "rows": rows}, status=422 if errors else 200)


# --- holidays ----------------------------------------------------------------------------------------


@staff_page(ADMINS)
def holidays(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    now = clock.now()
    year_text = request.GET.get("year") or request.POST.get("year") or str(timezone.localtime(now).year)
    year = int(year_text) if year_text.isdigit() else timezone.localtime(now).year
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            if request.POST.get("op") == "import":
                text = request.POST.get("text", "")
                if not text.strip():
                    raise InvalidInput("text", "required", "paste the schedule")
                summary = directory_actions.do_import_holidays(user, text=text, year=year, replace=_flag(request.POST, "replace"), now=now)
                messages.success(request, _("已导入:新增 %(c)s 天,修改 %(u)s 天,删除 %(d)s 天") % {
                    "c": summary["created"], "u": summary["updated"], "d": summary["deleted"]})
            else:
                day_text = request.POST.get("date", "")
                try:
                    day = dt.date.fromisoformat(day_text)
                except ValueError:
                    raise InvalidInput("date", "date", "date must be YYYY-MM-DD") from None
                if request.POST.get("op") == "delete":
                    directory_actions.do_delete_holiday(user, day, now=now)
                else:
                    directory_actions.do_set_holiday(user, day, {"is_workday": request.POST.get("is_workday") == "true",
                                                                  "name": request.POST.get("name", "")}, now=now)
                messages.success(request, _("已保存:%(day)s") % {"day": day_text})
        except InvalidInput as exc:
            errors = field_errors(exc, rename={"lines": "text", "days": "text"})
        else:
            return redirect(f"{request.path}?year={year}")
    rows = directory_actions.list_holidays(user, year)
    return render(request, "web/admin_holidays.html", {"page": "admin", "rows": rows, "year": year, "errors": errors,
                                                       "p": request.POST if request.method == "POST" else {}},
                  status=422 if errors else 200)


# --- users ---------------------------------------------------------------------------------------------


@staff_page(ADMINS)
def users(request: HttpRequest, user_id: int | None = None) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    editing = User.objects.filter(pk=user_id).first() if user_id else None
    if user_id and editing is None:
        raise NotFound("user not found")
    errors: dict[str, list[str]] = {}
    posted: Any = None
    if request.method == "POST":
        posted = request.POST
        p = request.POST
        role = p.get("role", "")
        dept = p.get("department", "")
        data: dict[str, Any] = {
            "role": int(role) if role.isdigit() else role, "department": int(dept) if dept.isdigit() else None,
            "display_name": p.get("display_name", ""), "phone": p.get("phone", ""), "extension": p.get("extension", ""),
            "is_active": _flag(p, "is_active"),
        }
        try:
            if editing is None:
                data["username"] = p.get("username", "")
                created = account_actions.do_create_user(actor, data, p.get("password", ""), now=clock.now())
                name = created.username
            else:
                account_actions.do_update_user(actor, editing.pk, data, now=clock.now())
                if p.get("password"):
                    account_actions.do_set_password(actor, User.objects.get(pk=editing.pk), p.get("password", ""), now=clock.now())
                name = editing.username
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            messages.success(request, _("已保存用户:%(name)s") % {"name": name})
            return redirect("web:admin_users")
    values = posted or ({
        "username": editing.username, "display_name": editing.display_name, "role": str(editing.role),
        "department": str(editing.department_id or ""), "phone": editing.phone, "extension": editing.extension or "",
        "is_active": "on" if editing.is_active else "",
    } if editing else {"is_active": "on"})
    rows = list(User.objects.select_related("department").exclude(username="portal").order_by("role", "username"))
    return render(request, "web/admin_users.html", {
        "page": "admin", "rows": rows, "editing": editing, "v": values, "errors": errors, "roles": Role.choices,
        "departments": forms.department_choices("—", handling_only=False),
    }, status=422 if errors else 200)


# --- audit log -------------------------------------------------------------------------------------------


AUDIT_PAGE = 50
AUDIT_COUNT_CAP = 10_000


@staff_page(AUDITORS)
def audit_log(request: HttpRequest) -> HttpResponse:
    g = request.GET
    qs = AuditEntry.objects.all()
    if g.get("actor"):
        qs = qs.filter(actor_name=g["actor"].strip())
    if g.get("action"):
        qs = qs.filter(action__startswith=g["action"].strip())
    if g.get("object_type"):
        qs = qs.filter(object_type=g["object_type"].strip())
    if g.get("object_id"):
        qs = qs.filter(object_id=g["object_id"].strip())
    if g.get("ip"):
        qs = qs.filter(ip=g["ip"].strip())
    errors: dict[str, list[str]] = {}
    for field, end in (("since", False), ("until", True)):
        if g.get(field):
            try:
                day = dt.date.fromisoformat(g[field])
            except ValueError:
                errors[field] = [_("请输入日期(年-月-日)")]
                continue
            moment = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time()))
            qs = qs.filter(at__lt=moment) if end else qs.filter(at__gte=moment)
    # Counted up to a cap, like the ticket search: the log grows by every action
    # (1.2 M rows for 200,000 tickets), and an exact count of a filtered log reads all
    # of it; past the cap the auditor narrows by date or object.
    total = qs[:AUDIT_COUNT_CAP + 1].count()
    pages = max(1, -(-min(total, AUDIT_COUNT_CAP) // AUDIT_PAGE))
    page_text = g.get("page", "1")
    number = min(max(int(page_text), 1), pages) if page_text.isdigit() else 1
    entries = list(qs.order_by("-at", "-id")[(number - 1) * AUDIT_PAGE:number * AUDIT_PAGE])
    query = g.copy()
    query.pop("page", None)
    return render(request, "web/audit.html", {
        "page": "audit", "entries": entries, "g": g, "errors": errors, "query": query.urlencode(),
        "number": number, "pages": pages, "capped": total > AUDIT_COUNT_CAP, "total": min(total, AUDIT_COUNT_CAP),
        "prev_page": number - 1 if number > 1 else None, "next_page": number + 1 if number < pages else None,
    }, status=422 if errors else 200)


# --- dictionary entries and deadline rules ------------------------------------------------------------

ENTRY_KINDS = [
    ("category", gettext_lazy("诉求分类")), ("service_type", gettext_lazy("诉求类型")),
    ("source", gettext_lazy("受理渠道")), ("district", gettext_lazy("所属区域")),
]


def _int_or_text(text: str) -> Any:
    text = (text or "").strip()
    return int(text) if text.lstrip("-").isdigit() else text


@staff_page(ADMINS)
def dictionary(request: HttpRequest, kind: str = "category", entry_id: int | None = None) -> HttpResponse:
    from hotline.directory.models import Category

    user: User = request.user  # type: ignore[assignment]
    if kind not in dict(ENTRY_KINDS):
        raise NotFound("no such dictionary")
    model: Any = Category if kind == "category" else directory_actions.ENTRY_MODELS[kind]
    editing = model.objects.filter(pk=entry_id).first() if entry_id else None
    if entry_id and editing is None:
        raise NotFound("entry not found")
    errors: dict[str, list[str]] = {}
    posted: Any = None
    if request.method == "POST":
        posted = p = request.POST
        data: dict[str, Any] = {"code": p.get("code", "").strip(), "name": p.get("name", "").strip(),
                                "active": _flag(p, "active"), "sort": _int_or_text(p.get("sort", "0") or "0")}
        if kind == "category":
            data["parent"] = _int_or_text(p.get("parent", "")) or None
        if kind == "district":
            data["department"] = _int_or_text(p.get("department", "")) or None
        try:
            if kind == "category":
                if editing is None:
                    directory_actions.do_create_category(user, data, now=clock.now())
                else:
                    directory_actions.do_update_category(user, editing.pk, data, now=clock.now())
            elif editing is None:
                directory_actions.do_create_entry(user, kind, data, now=clock.now())
            else:
                directory_actions.do_update_entry(user, kind, editing.pk, data, now=clock.now())
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            messages.success(request, _("已保存:%(name)s") % {"name": data["name"]})
            return redirect("web:admin_dictionary", kind=kind)
    values = posted or ({
        "code": editing.code, "name": editing.name, "active": "on" if editing.active else "", "sort": editing.sort,
        "parent": str(getattr(editing, "parent_id", "") or ""), "department": str(getattr(editing, "department_id", "") or ""),
    } if editing else {"active": "on", "sort": 0})
    rows = list(model.objects.order_by(*(["parent_id", "sort", "code"] if kind == "category" else ["sort", "code"])))
    if kind == "category":  # parents first, each followed by its children
        parents = [c for c in rows if not c.parent_id]
        rows = [x for par in parents for x in [par] + [c for c in rows if c.parent_id == par.pk]]
    return render(request, "web/admin_dictionary.html", {
        "page": "admin", "kind": kind, "kinds": ENTRY_KINDS, "rows": rows, "editing": editing, "v": values, "errors": errors,
        "parents": [(str(c.pk), c.name) for c in Category.objects.filter(parent__isnull=True).order_by("sort", "code")],
        "departments": forms.department_choices("—", handling_only=False),
    }, status=422 if errors else 200)


@staff_page(ADMINS)
def deadline_rules(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    from hotline.directory.models import Category, DeadlineRule, ServiceType

    user: User = request.user  # type: ignore[assignment]
    editing = DeadlineRule.objects.filter(pk=rule_id).first() if rule_id else None
    if rule_id and editing is None:
        raise NotFound("rule not found")
    errors: dict[str, list[str]] = {}
    posted: Any = None
    if request.method == "POST":
        posted = p = request.POST
        try:
            if p.get("op") == "delete" and editing is not None:
                directory_actions.do_delete_deadline_rule(user, editing.pk, now=clock.now())
            else:
                data = {"service_type": _int_or_text(p.get("service_type", "")) or None,
                        "category": _int_or_text(p.get("category", "")) or None,
                        "handle_days": _int_or_text(p.get("handle_days", "")), "sign_days": _int_or_text(p.get("sign_days", ""))}
                if editing is None:
                    directory_actions.do_create_deadline_rule(user, data, now=clock.now())
                else:
                    directory_actions.do_update_deadline_rule(user, editing.pk, data, now=clock.now())
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            messages.success(request, _("时限规则已保存,在办工单的时限已按规则重算"))
            return redirect("web:admin_rules")
    values = posted or ({"service_type": str(editing.service_type_id or ""), "category": str(editing.category_id or ""),
                         "handle_days": editing.handle_days, "sign_days": editing.sign_days} if editing else {"sign_days": 1})
    rows = list(DeadlineRule.objects.select_related("service_type", "category", "category__parent").order_by("service_type__sort", "category__code"))
    return render(request, "web/admin_rules.html", {
        "page": "admin", "rows": rows, "editing": editing, "v": values, "errors": errors,
        "service_types": [(str(s.pk), s.name) for s in ServiceType.objects.order_by("sort", "code")],
        "categories": [(str(c.pk), str(c)) for c in Category.objects.select_related("parent").order_by("parent_id", "sort", "code")],
    }, status=422 if errors else 200)
