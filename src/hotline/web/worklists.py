"""我的工作: the to-do lists of each role, as SQL filters.

Who sees a list is not decided here: each list names the lifecycle action its
tickets wait for, and a user sees the list when the transition table gives that
action to the user's role (``cases.lifecycle.TRANSITIONS[action].roles``). The rows
come from ``cases.access.visible_tickets``, so a department sees only its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from hotline.accounts.models import DEPARTMENT_ROLES, Role, User
from hotline.cases import access, deadlines, lifecycle
from hotline.cases.models import ExtensionRequest, ExtensionStatus, Status, Supervision, Ticket, TicketAssist
from hotline.directory.models import Department

S = Status


def _subtree_ids(user: User) -> list[int]:
    """Ids of the user's department and everything below it (a few dozen at most)."""
    if not user.department_id or not user.department:
        return []
    cached = getattr(user, "_web_subtree_ids", None)  # once per request (the user object lives as long)
    if cached is None:
        cached = list(Department.objects.filter(path__startswith=user.department.path).values_list("pk", flat=True))
        user._web_subtree_ids = cached  # type: ignore[attr-defined]
    return cached


def _lead(user: User) -> Q:
    """The user's department leads (or is above the lead department). An id list, not
    a join on the department path: the (lead_department, status) index answers it."""
    if user.role not in DEPARTMENT_ROLES or not user.department_id or not user.department:
        return Q()
    return Q(lead_department_id__in=_subtree_ids(user))


def _mine_first(user: User) -> Q:
    """A handler's own tickets and the department's unassigned ones."""
    if user.role == Role.DEPT_HANDLER:
        # COALESCE(handler, me) = me, not "handler = me OR handler IS NULL": the OR
        # steers SQLite onto the handler index, where NULL matches most tickets.
        return Q(Exact(Coalesce("handler_id", Value(user.pk)), Value(user.pk)))
    return Q()


def _assisting_open(user: User) -> Q:
    """Open tickets the user's department (or one below it) assists. The state is
    checked inside the assists' subquery: SQLite then starts from the department's
    assists (~1,300 for a city bureau) instead of every open ticket of the city
    (16,000 through the status index)."""
    if not user.department_id or not user.department:
        return Q(pk__in=[])
    assists = TicketAssist.objects.filter(department_id__in=_subtree_ids(user), ticket__status__in=sorted(lifecycle.OPEN_AT_DEPARTMENT))
    return Q(pk__in=assists.values("ticket_id"))


# Few rows, each table indexed on them: "ticket id in (...)" beats a correlated
# EXISTS evaluated for every visible ticket.
def _pending_extension() -> Q:
    return Q(pk__in=ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).values("ticket_id"))


def _open_supervision() -> Q:
    return Q(pk__in=Supervision.objects.filter(closed_at__isnull=True).values("ticket_id"))


def running_on_partial_index() -> Q:
    """The running statuses written into the SQL (``deadlines.running_literal``) so the
    partial indexes on running tickets are usable, and — on SQLite — wrapped in
    ``likelihood(…, 0.9)``: without planner statistics SQLite takes any ``status IN``
    term for a very selective one and reads all 16,000 running tickets through the
    status index (40 ms at 200,000 tickets) instead of the few red ones through
    ``ticket_running_deadline`` (0.3 ms). The wrapped term still implies the index's
    WHERE. PostgreSQL has no ``likelihood`` and needs no hint."""
    literal = deadlines.running_literal()
    if connection.vendor != "sqlite":
        return Q(literal)
    return Q(RawSQL(f"likelihood({literal.sql}, 0.9)", [], output_field=BooleanField()))


def _overdue(u: User, now: dt.datetime) -> Q:
    # deadlines.colour_q("red") with the statuses only as literal SQL: a bound
    # ``status IN (%s, …)`` term would steer SQLite back onto the status index.
    return Q(deadline__lt=now) & running_on_partial_index()


@dataclass(frozen=True)
class Worklist:
    key: str
    label: Any
    #: The lifecycle action these tickets wait for: its roles decide who sees the list.
    action: str
    build: Callable[[User, dt.datetime], Q]
    sort: str = "created_at"
    #: Whether its tickets can have a running deadline (green/yellow/red); the others
    #: are counted without the colour filters.
    coloured: bool = False
    #: Set when the list is exactly "status in these & the user's lead scope": such
    #: lists are counted together, one GROUP BY status query (``counts``).
    statuses: frozenset[str] | None = None
    #: The states its rows are in, for lists in a department's lead scope that span
    #: several: their first rows are read state by state (``row_statuses``).
    row_states: frozenset[str] = frozenset()
    #: Every ticket of the list is red (overdue): counted without the colour filters,
    #: from the partial index alone (the filters would read each ticket's row).
    all_red: bool = False

    def visible_to(self, user: User) -> bool:
        return user.role in lifecycle.TRANSITIONS[self.action].roles

    def queryset(self, user: User, now: dt.datetime, base: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
        """Its tickets; ``base`` is ``access.visible_tickets(user)`` when the caller has it
        (the department subtree is then looked up once per page, not once per list)."""
        return (access.visible_tickets(user) if base is None else base).filter(self.build(user, now))


def _by_status(key: str, label: Any, action: str, statuses: set[str], sort: str = "created_at", coloured: bool = False) -> Worklist:
    frozen = frozenset(statuses)
    return Worklist(key, label, action, lambda u, now: Q(status__in=sorted(frozen)) & _lead(u), sort, coloured, frozen)


WORKLISTS: list[Worklist] = [
    _by_status("drafts", _("待受理(网上提交等)"), "register", {S.DRAFT}),
    _by_status("returned", _("退回待重派"), "dispatch", {S.RETURNED}),
    _by_status("return_requests", _("退回申请待审核"), "accept_return", {S.RETURN_REQUESTED}, coloured=True),
    Worklist("extensions", _("延期申请待审批"), "approve_extension", lambda u, now: _pending_extension(), "deadline", coloured=True),
    _by_status("to_sign", _("待签收"), "sign_for", {S.DISPATCHED}, "sign_deadline", coloured=True),
    Worklist("to_handle", _("待办理"), "reply", lambda u, now: Q(status__in=[S.SIGNED, S.HANDLING]) & _lead(u) & _mine_first(u), "deadline", coloured=True,
             row_states=frozenset({S.SIGNED, S.HANDLING})),
    Worklist("urged", _("被催办"), "reply", lambda u, now: Q(status__in=list(lifecycle.OPEN_AT_DEPARTMENT), urge_count__gt=0) & _lead(u), "deadline", coloured=True,
             row_states=frozenset(lifecycle.OPEN_AT_DEPARTMENT)),
    Worklist("supervised_dept", _("督办件"), "answer_supervision", lambda u, now: _open_supervision() & _lead(u), "deadline", coloured=True),
    Worklist("assisting", _("协办件"), "assist_opinion", lambda u, now: _assisting_open(u), "deadline", coloured=True),
    # Oldest first by registration: the (status, created_at) index gives the first 50
    # in order; "replied_at" would sort every replied ticket (12,500 of 200,000) per page.
    _by_status("to_review", _("待审核"), "approve_reply", {S.REPLIED}),
    _by_status("to_callback", _("待回访"), "callback", {S.REVIEWED, S.RESOLVED}),
    _by_status("to_close", _("待办结归档"), "close", {S.CALLED_BACK}),
    Worklist("supervised", _("督办中"), "close_supervision", lambda u, now: _open_supervision(), "deadline", coloured=True),
    Worklist("urgeable", _("在办超期件"), "urge", _overdue, "deadline", coloured=True, all_red=True),
]
BY_KEY = {w.key: w for w in WORKLISTS}


def row_statuses(user: User, w: Worklist) -> frozenset[str]:
    """The states to read ``w``'s first rows by, one query each, for a department user
    (whose lists are in a lead scope served by the (lead_department, status) index);
    empty for the center, whose lists the status indexes serve in order."""
    if not _lead(user):
        return frozenset()
    return w.row_states or w.statuses or frozenset()


def lists_for(user: User) -> list[Worklist]:
    return [w for w in WORKLISTS if w.visible_to(user)]


def per_status(user: User, qs: QuerySet[Ticket], statuses: list[str], **aggregates: Any) -> dict[str, tuple[int, ...]]:
    """{status: (aggregate values…)} of ``qs`` for these statuses, in one query. A
    department user's tickets are grouped by (lead department, status) so SQLite walks
    the (lead_department, status) index (a few hundred rows) rather than the status
    index (every ticket in those states in the city), then summed here."""
    aggregates = aggregates or {"n": Count("pk")}
    keys = ["lead_department_id", "status"] if _lead(user) else ["status"]
    rows = qs.filter(status__in=sorted(statuses)).order_by().values_list(*keys).annotate(**aggregates).values_list("status", *aggregates)
    out: dict[str, tuple[int, ...]] = {}
    for status, *values in rows:
        before = out.get(status, (0,) * len(values))
        out[status] = tuple(int(a or 0) + int(b or 0) for a, b in zip(before, values))
    return out


def counts(user: User, lists: list[Worklist], now: dt.datetime, base: QuerySet[Ticket] | None = None) -> dict[str, dict[str, int]]:
    """{key: {total, red, yellow}}. The lists that are "status in … & lead scope" are
    counted together: one ``GROUP BY status`` (the (status, created_at) index answers it
    without reading tickets) and, for those with running deadlines, one more for the
    colours; every other list is one aggregate query. ``base``: the page's
    ``access.visible_tickets(user)``, when it has it."""
    base = access.visible_tickets(user) if base is None else base
    out: dict[str, dict[str, int]] = {}
    grouped = [w for w in lists if w.statuses is not None]
    if grouped:
        scope = base.filter(_lead(user))
        totals = {k: v[0] for k, v in per_status(user, scope, sorted({s for w in grouped for s in w.statuses or ()})).items()}
        coloured = sorted({s for w in grouped if w.coloured for s in w.statuses or ()} & set(deadlines.RUNNING_STATES))
        colours: dict[str, tuple[int, ...]] = {}
        if coloured:
            colours = per_status(user, scope, coloured, red=Count("pk", filter=deadlines.colour_q("red", now)),
                                 yellow=Count("pk", filter=deadlines.colour_q("yellow", now)))
        for w in grouped:
            states = w.statuses or ()
            out[w.key] = {"total": sum(totals.get(s, 0) for s in states),
                          "red": sum(colours.get(s, (0, 0))[0] for s in states),
                          "yellow": sum(colours.get(s, (0, 0))[1] for s in states)}
    for w in lists:
        if w.statuses is not None:
            continue
        qs = w.queryset(user, now, base)
        if w.all_red:
            n = qs.count()
            out[w.key] = {"total": n, "red": n, "yellow": 0}
            continue
        if not w.coloured:
            out[w.key] = {"total": qs.count(), "red": 0, "yellow": 0}
            continue
        agg = qs.aggregate(
            total=Count("pk"),
            red=Count("pk", filter=deadlines.colour_q("red", now)),
            yellow=Count("pk", filter=deadlines.colour_q("yellow", now)),
        )
        out[w.key] = {k: int(v or 0) for k, v in agg.items()}
    return out
