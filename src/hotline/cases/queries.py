"""Ticket search: combined filters, sorting and pagination, in SQL.

Shared by the list endpoint, the exports and (later) the pages, so a filter means
the same thing everywhere. The caller's data scope comes first (access.visible_tickets).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan

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
#: counting 1,000 matches of a common word (停水: 2.4 % of tickets) read 42,000 rows,
#: 190 ms on 1,000,000 tickets in PostgreSQL; 200 reads ~8,000 (docs/benchmarks.md).
FREE_TEXT_COUNT_CAP = 200
#: Free-text columns, all matched the same way.
TEXT_COLUMNS = ("summary", "content", "address")


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
            qs = qs.filter(word_q(word))
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
        qs = qs.filter(deadlines.colour_filter(f.colour, now))
    if f.urgency:
        if f.urgency not in Urgency.values:
            raise InvalidInput("urgency", "choice", f"urgency must be one of {Urgency.values}")
        qs = qs.filter(urgency=f.urgency)
    if f.phone:
        qs = qs.filter(contact_phone=f.phone.strip())
    return qs


def word_q(word: str) -> Q:
    """One free-text word: a substring of the summary, the content or the address.

    Words with letter case (KONE) are matched case-insensitively (``UPPER(col) LIKE``,
    which PostgreSQL's trigram indexes serve from three characters on). A word without
    letter case (停水, 噪音, 12) needs no folding: ``STRPOS``/``INSTR`` finds the same
    rows at a quarter of the cost per row (53 ms against 188 ms for 1,001 matches of
    停水 on PostgreSQL), which is what one- and two-character words — no trigram, so
    read row by row — spend their time on. Three characters and more keep the
    trigram-indexed form on PostgreSQL."""
    cased = word.upper() != word.lower()
    if cased or (len(word) >= 3 and connection.vendor == "postgresql"):
        return Q(summary__icontains=word) | Q(content__icontains=word) | Q(address__icontains=word)
    found = [Q(GreaterThan(StrIndex(column, Value(word)), 0)) for column in TEXT_COLUMNS]
    return found[0] | found[1] | found[2]


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
    if parts is not None and start + f.page_size <= COUNT_CAP:
        # A department user's page: the first start + page_size tickets of each half of
        # the scope (each on its own index), merged in the database (UNION ALL, ordered,
        # then the page). The one query with ``lead IN (…) OR id IN (assists)`` makes
        # PostgreSQL walk the whole date index, filtering (1.5 s on 1,000,000 tickets);
        # merging the candidates' ids in Python cost 50–100 ms of CPU on deep pages.
        ids = department_page_ids(filtered, parts, f.sort, start, f.page_size)
    else:
        # The page's ids first, on the ticket table alone, then its rows with their
        # relations: with the six joins in the same query a planner with statistics
        # (SQLite after ANALYZE) may start from a dictionary table and sort every ticket.
        ids = list(qs.values_list("pk", flat=True)[start : start + f.page_size])
    by_id = Ticket.objects.filter(pk__in=ids).select_related("source", "service_type", "category", "district", "lead_department", "handler").in_bulk()
    page = [by_id[pk] for pk in ids if pk in by_id]
    return qs, min(count, cap), capped, page


def department_page_ids(filtered: QuerySet[Ticket], parts: list[Q], sort: str, start: int, size: int) -> list[int]:
    """Ids of rows ``start`` … ``start + size`` of the union of the (disjoint) scope
    halves ``parts``, in the order ``sort``: each half's first ``start + size`` rows
    on its own index, then one ordered UNION ALL."""
    key = sort.lstrip("-")
    direction = "-" if sort.startswith("-") else ""
    in_sql = connection.features.supports_slicing_ordering_in_compound
    pieces = [piece for part in parts for piece in (_per_lead_department(part) if in_sql else [part])]
    halves = [order(filtered.filter(piece), sort).values_list("pk", key)[: start + size] for piece in pieces]
    if len(halves) == 1:
        return [pk for pk, _ in halves[0][start:]]
    if not in_sql:
        # SQLite: no LIMIT inside a UNION's parts; the candidates' page in a second query
        # (the halves are not split per department there: at most 2 × (start + size) ids).
        candidates = [pk for half in halves for pk, _ in half]
        return list(order(Ticket.objects.filter(pk__in=candidates), sort).values_list("pk", flat=True)[start : start + size])
    merged = halves[0].union(*halves[1:], all=True).order_by(f"{direction}{key}", f"{direction}pk")
    return [pk for pk, _ in merged[start : start + size]]


#: A scope with more lead departments than this is paged as one piece.
SPLIT_LEAD_MAX = 30


def _per_lead_department(part: Q) -> list[Q]:
    """The lead half of a scope (``lead_department_id IN (…)``) as one piece per
    department (each still inside ``part``): PostgreSQL reads one department's tickets
    newest first from ``ticket_lead_created`` and stops at the page, where for the
    ``IN`` list it walked the whole date index (two-word free text for 东华街道: 102 ms
    → see docs/benchmarks.md). Any other part is returned as it is."""
    if part.negated or part.connector != Q.AND or len(part.children) != 1:
        return [part]
    child = part.children[0]
    if not (isinstance(child, tuple) and child[0] == "lead_department_id__in"):
        return [part]
    ids = list(child[1])
    if not 1 < len(ids) <= SPLIT_LEAD_MAX:
        return [part]
    return [part & Q(lead_department_id=pk) for pk in ids]


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
