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

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from hotline.accounts.models import DEPARTMENT_ROLES, Role, User
from hotline.cases import access, deadlines, lifecycle
from hotline.cases.models import ExtensionRequest, ExtensionStatus, Status, Supervision, Ticket, TicketAssist

S = Status


def _lead(user: User) -> Q:
    """The user's department leads (or is above the lead department)."""
    if user.role not in DEPARTMENT_ROLES or not user.department_id or not user.department:
        return Q()
    return Q(lead_department__path__startswith=user.department.path)


def _mine_first(user: User) -> Q:
    """A handler's own tickets and the department's unassigned ones."""
    if user.role == Role.DEPT_HANDLER:
        return Q(handler=user) | Q(handler__isnull=True)
    return Q()


def _assisting(user: User) -> Q:
    if not user.department_id or not user.department:
        return Q(pk__in=[])
    return Q(pk__in=TicketAssist.objects.filter(department__path__startswith=user.department.path).values("ticket_id"))


# Few rows, each table indexed on them: "ticket id in (...)" beats a correlated
# EXISTS evaluated for every visible ticket.
def _pending_extension() -> Q:
    return Q(pk__in=ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).values("ticket_id"))


def _open_supervision() -> Q:
    return Q(pk__in=Supervision.objects.filter(closed_at__isnull=True).values("ticket_id"))


@dataclass(frozen=True)
class Worklist:
    key: str
    label: Any
    #: The lifecycle action these tickets wait for: its roles decide who sees the list.
    action: str
    build: Callable[[User, dt.datetime], Q]
    sort: str = "created_at"

    def visible_to(self, user: User) -> bool:
        return user.role in lifecycle.TRANSITIONS[self.action].roles

    def queryset(self, user: User, now: dt.datetime) -> QuerySet[Ticket]:
        return access.visible_tickets(user).filter(self.build(user, now))


WORKLISTS: list[Worklist] = [
    Worklist("drafts", _("待受理(网上提交等)"), "register", lambda u, now: Q(status=S.DRAFT)),
    Worklist("returned", _("退回待重派"), "dispatch", lambda u, now: Q(status=S.RETURNED)),
    Worklist("return_requests", _("退回申请待审核"), "accept_return", lambda u, now: Q(status=S.RETURN_REQUESTED)),
    Worklist("extensions", _("延期申请待审批"), "approve_extension", lambda u, now: _pending_extension(), "deadline"),
    Worklist("to_sign", _("待签收"), "sign_for", lambda u, now: Q(status=S.DISPATCHED) & _lead(u), "sign_deadline"),
    Worklist("to_handle", _("待办理"), "reply", lambda u, now: Q(status__in=[S.SIGNED, S.HANDLING]) & _lead(u) & _mine_first(u), "deadline"),
    Worklist("urged", _("被催办"), "reply", lambda u, now: Q(status__in=list(lifecycle.OPEN_AT_DEPARTMENT), urge_count__gt=0) & _lead(u), "deadline"),
    Worklist("supervised_dept", _("督办件"), "answer_supervision", lambda u, now: _open_supervision() & _lead(u), "deadline"),
    Worklist("assisting", _("协办件"), "assist_opinion", lambda u, now: Q(status__in=list(lifecycle.OPEN_AT_DEPARTMENT)) & _assisting(u), "deadline"),
    Worklist("to_review", _("待审核"), "approve_reply", lambda u, now: Q(status=S.REPLIED), "replied_at"),
    Worklist("to_callback", _("待回访"), "callback", lambda u, now: Q(status__in=[S.REVIEWED, S.RESOLVED])),
    Worklist("to_close", _("待办结归档"), "close", lambda u, now: Q(status=S.CALLED_BACK)),
    Worklist("supervised", _("督办中"), "close_supervision", lambda u, now: _open_supervision(), "deadline"),
    Worklist("urgeable", _("在办超期件"), "urge", lambda u, now: deadlines.colour_q("red", now), "deadline"),
]
BY_KEY = {w.key: w for w in WORKLISTS}


def lists_for(user: User) -> list[Worklist]:
    return [w for w in WORKLISTS if w.visible_to(user)]


def counts(user: User, lists: list[Worklist], now: dt.datetime) -> dict[str, dict[str, int]]:
    """{key: {total, red, yellow}}: one aggregate query per list."""
    out: dict[str, dict[str, int]] = {}
    for w in lists:
        agg = w.queryset(user, now).aggregate(
            total=Count("pk"),
            red=Count("pk", filter=deadlines.colour_q("red", now)),
            yellow=Count("pk", filter=deadlines.colour_q("yellow", now)),
        )
        out[w.key] = {k: int(v or 0) for k, v in agg.items()}
    return out
