"""Ticket search: combined filters, sorting and pagination, in SQL.

Shared by the list endpoint, the exports and (later) the pages, so a filter means
the same thing everywhere. The caller's data scope comes first (access.visible_tickets).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from hotline.accounts.models import User
from hotline.cases import access, cache, deadlines
from hotline.cases.models import Status, Ticket, TicketAssist, Urgency
from hotline.directory.models import Category, Department
from hotline.lib.errors import InvalidInput

SORTABLE = {
    "created_at", "number", "deadline", "status", "urgency", "registered_at", "dispatched_at", "closed_at", "updated_at",
}
MAX_PAGE_SIZE = 200
#: Counting stops here; beyond it the answer is "more than COUNT_CAP".
COUNT_CAP = 10_000
#: With free text (``q``) counting stops earlier: each match is a substring test of
#: the row's text, read newest first (no index serves two-character words), so
#: counting 10,000 matches of a common word reads ~400,000 rows.
FREE_TEXT_COUNT_CAP = 1_000


@dataclass
class TicketFilter:
    number: str | None = None
    q: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    source: str | None = None
    service_type: str | None = None
    category: str | None = None
    district: str | None = None
    lead_department: str | None = None
    assisting_department: str | None = None
    include_subdepartments: bool = True
    handler: int | None = None
    status: list[str] = field(default_factory=list)
    colour: str | None = None
    urgency: str | None = None
    phone: str | None = None
    sort: str = "-created_at"
    page: int = 1
    page_size: int = 20


def _dept(value: str, name: str) -> Department:
    dept = Department.objects.filter(pk=int(value)).first() if value.isdigit() else Department.objects.filter(code=value).first()
    if dept is None:
        raise InvalidInput(name, "exists", f"{name}: no department {value!r}")
    return dept


def _subtree(dept: Department, include_subdepartments: bool) -> list[int]:
    """The department's id and, when asked, its descendants' (resolved first, so the
    ticket filter is an indexed ``IN`` list rather than a join on the path)."""
    if not include_subdepartments:
        return [dept.pk]
    return list(Department.objects.filter(path__startswith=dept.path).values_list("pk", flat=True))


def _code_or_id(prefix: str, value: str) -> Q:
    """``<prefix>_id = <id>``, a code resolved to its id first (remembered per process,
    ``cases.cache``): with the id in the query the planner can use the ticket table's
    index on that column; a join on the code made PostgreSQL scan the whole table."""
    if value.isdigit():
        return Q(**{f"{prefix}_id": int(value)})
    model = Ticket._meta.get_field(prefix).related_model
    key = f"id:{model._meta.label_lower}:{value}"  # type: ignore[union-attr]
    box = cache.store(cache.DICTIONARY)
    pk = box.get(key) if box is not None else None
    if pk is None:
        pk = model._default_manager.filter(code=value).values_list("pk", flat=True).first()  # type: ignore[union-attr]
        if pk is None:
            return Q(pk__in=[])  # no such entry: no ticket has it
        if box is not None:
            box[key] = pk
    return Q(**{f"{prefix}_id": pk})


def apply_filters(qs: QuerySet[Ticket], f: TicketFilter, now: dt.datetime) -> QuerySet[Ticket]:
    if f.number:
        qs = qs.filter(number__startswith=f.number.strip())
    if f.q:
        for word in f.q.split()[:5]:
            qs = qs.filter(Q(summary__icontains=word) | Q(content__icontains=word) | Q(address__icontains=word))
    if f.created_from and f.created_to and f.created_from > f.created_to:
        raise InvalidInput("created_from", "before_created_to", "created_from must be before created_to")
    if f.created_from:
        qs = qs.filter(created_at__gte=f.created_from)
    if f.created_to:
        qs = qs.filter(created_at__lt=f.created_to)
    if f.source:
        qs = qs.filter(_code_or_id("source", f.source))
    if f.service_type:
        qs = qs.filter(_code_or_id("service_type", f.service_type))
    if f.category:
        cat = Category.objects.filter(pk=int(f.category)).first() if f.category.isdigit() else Category.objects.filter(code=f.category).first()
        if cat is None:
            raise InvalidInput("category", "exists", f"category: no entry {f.category!r}")
        ids = [cat.pk, *Category.objects.filter(parent=cat).values_list("pk", flat=True)]
        qs = qs.filter(category_id__in=ids)
    if f.district:
        qs = qs.filter(_code_or_id("district", f.district))
    if f.lead_department:
        dept = _dept(f.lead_department, "lead_department")
        qs = qs.filter(lead_department_id__in=_subtree(dept, f.include_subdepartments))
    if f.assisting_department:
        dept = _dept(f.assisting_department, "assisting_department")
        assist = TicketAssist.objects.filter(department_id__in=_subtree(dept, f.include_subdepartments))
        qs = qs.filter(pk__in=assist.values("ticket_id"))
    if f.handler:
        qs = qs.filter(handler_id=f.handler)
    if f.status:
        bad = [s for s in f.status if s not in Status.values]
        if bad:
            raise InvalidInput("status", "choice", f"unknown status {bad[0]!r}; allowed: {Status.values}")
        qs = qs.filter(status__in=f.status)
    if f.colour:
        if f.colour not in deadlines.COLOURS:
            raise InvalidInput("colour", "choice", f"colour must be one of {list(deadlines.COLOURS)}")
        qs = qs.filter(deadlines.colour_q(f.colour, now) & Q(deadlines.running_literal()))
    if f.urgency:
        if f.urgency not in Urgency.values:
            raise InvalidInput("urgency", "choice", f"urgency must be one of {Urgency.values}")
        qs = qs.filter(urgency=f.urgency)
    if f.phone:
        qs = qs.filter(contact_phone=f.phone.strip())
    return qs


def order(qs: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    key = sort.lstrip("-")
    if key not in SORTABLE:
        raise InvalidInput("sort", "choice", f"sort must be one of {sorted(SORTABLE)} with optional '-'")
    direction = "-" if sort.startswith("-") else ""
    return qs.order_by(f"{direction}{key}", f"{direction}id")


def search(user: User, f: TicketFilter, now: dt.datetime) -> tuple[QuerySet[Ticket], int, bool, list[Ticket]]:
    """(filtered queryset, count, count_capped, the requested page)."""
    if f.page < 1:
        raise InvalidInput("page", "min", "page must be at least 1")
    if not 1 <= f.page_size <= MAX_PAGE_SIZE:
        raise InvalidInput("page_size", "range", f"page_size must be 1..{MAX_PAGE_SIZE}")
    filtered = apply_filters(Ticket.objects.all(), f, now)
    qs = order(access.visible_tickets(user, filtered), f.sort)
    parts = access.department_scope_parts(user)
    cap = FREE_TEXT_COUNT_CAP if f.q and f.q.strip() else COUNT_CAP
    count = capped_count(user, filtered, parts, cap=cap)
    capped = count > cap
    start = (f.page - 1) * f.page_size
    if not capped and start >= count:
        return qs, count, capped, []  # past the last page: nothing to read
    rows = qs
    if parts is not None and start + f.page_size <= COUNT_CAP:
        # A department user's page: the first start + page_size ids of each half of the
        # scope (each on its own index), then the page among those candidates. The one
        # query with ``lead IN (…) OR id IN (assists)`` makes PostgreSQL walk the whole
        # date index, filtering (1.5 s on 1,000,000 tickets).
        ordered = order(filtered, f.sort)
        candidates = [pk for part in parts for pk in ordered.filter(part).values_list("pk", flat=True)[: start + f.page_size]]
        rows = order(Ticket.objects.filter(pk__in=candidates), f.sort)
    # The page's ids first, on the ticket table alone, then its rows with their relations:
    # with the six joins in the same query a planner with statistics (SQLite after
    # ANALYZE) may start from a dictionary table and sort every ticket.
    ids = list(rows.values_list("pk", flat=True)[start : start + f.page_size])
    by_id = Ticket.objects.filter(pk__in=ids).select_related("source", "service_type", "category", "district", "lead_department", "handler").in_bulk()
    page = [by_id[pk] for pk in ids if pk in by_id]
    return qs, min(count, cap), capped, page


def capped_count(user: User, filtered: QuerySet[Ticket], parts: list[Q] | None = None, *, cap: int | None = None) -> int:
    """How many of ``filtered`` the user may see, counted up to ``cap`` + 1 (COUNT_CAP).

    For department users the two halves of their scope are counted one after the
    other (``access.department_scope_parts``), each on its own index, instead of one
    ``OR`` that the database answers with a full scan."""
    cap = COUNT_CAP if cap is None else cap
    if parts is None:
        parts = access.department_scope_parts(user)
    if parts is None:
        return access.visible_tickets(user, filtered).order_by()[: cap + 1].count()
    total = 0
    for part in parts:
        total += filtered.filter(part).order_by()[: cap + 1 - total].count()
        if total > cap:
            break
    return total


def parse_list(value: str | list[str] | None) -> list[str]:
    if not value:
        return []
    items = value if isinstance(value, list) else [value]
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def filter_from_params(params: Any) -> TicketFilter:
    """A TicketFilter from the API's query schema (any object with the attributes)."""
    values = {k: getattr(params, k) for k in TicketFilter.__dataclass_fields__ if hasattr(params, k)}
    values["status"] = parse_list(values.get("status"))
    return TicketFilter(**{k: v for k, v in values.items() if v is not None})
