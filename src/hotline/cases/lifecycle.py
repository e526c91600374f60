"""The ticket lifecycle: one table of transitions and the one function that applies them.

Everything that decides whether an action may happen lives here, as data:
``TRANSITIONS[name] = Transition(sources, target, roles, scope)``. An action not
listed for the current state is an ``IllegalTransition`` naming the state and the
actions allowed in it. ``apply`` is the only code that writes ``Ticket.status``.

Some actions keep the status (urge, supervise, extension requests): they are in
the table too, with ``target=None``, so that who-may-do-what stays in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from hotline.accounts.models import Role, User
from hotline.cases import access
from hotline.cases.models import Status, Ticket, TicketEvent
from hotline.lib import rows
from hotline.lib.errors import Forbidden, IllegalTransition

S = Status
INTAKE = frozenset({Role.CALL_TAKER, Role.TEAM_LEADER, Role.DISPATCHER})
CONTROL = frozenset({Role.TEAM_LEADER, Role.DISPATCHER})
DEPARTMENT = frozenset({Role.DEPT_HANDLER, Role.DEPT_MANAGER})
OPEN_AT_DEPARTMENT = frozenset({S.DISPATCHED, S.SIGNED, S.HANDLING, S.RETURN_REQUESTED})


def _back_to_status_before_return(ticket: Ticket) -> Status:
    last = ticket.events.filter(kind="request_return").order_by("-at", "-id").values_list("from_status", flat=True).first()
    return Status(last) if last else S.DISPATCHED


def _reopen_target(ticket: Ticket) -> Status:
    return S.HANDLING if ticket.lead_department_id else S.REGISTERED


@dataclass(frozen=True)
class Transition:
    name: str
    label: Any
    sources: frozenset[Status]
    #: New status; None keeps the status; a function decides from the ticket.
    target: Status | Callable[[Ticket], Status] | None
    roles: frozenset[Role]
    #: "center"/"visible": a user with the role who can see the ticket; "lead": the
    #: user's department is the lead department (or above it); "role": the role alone.
    scope: str = "center"
    comment_required: bool = False
    #: A precondition on the ticket's other rows, by name (``GUARDS``): the action is
    #: refused (409, naming the rule) and not offered while it does not hold.
    guard: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _t(name: str, label: Any, sources: set[Status], target: Any, roles: frozenset[Role], **kw: Any) -> Transition:
    return Transition(name, label, frozenset(sources), target, roles, **kw)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("register", _("受理"), {S.DRAFT}, S.REGISTERED, INTAKE),
        _t("resolve_on_spot", _("直接办结"), {S.DRAFT, S.REGISTERED}, S.RESOLVED, frozenset({Role.CALL_TAKER, Role.TEAM_LEADER})),
        _t("dispatch", _("派单"), {S.DRAFT, S.REGISTERED, S.RETURNED}, S.DISPATCHED, INTAKE),
        _t("sign_for", _("签收"), {S.DISPATCHED}, S.SIGNED, DEPARTMENT, scope="lead"),
        _t("assign", _("分配承办人"), {S.SIGNED, S.HANDLING}, S.HANDLING, frozenset({Role.DEPT_MANAGER}), scope="lead"),
        _t("request_return", _("申请退回"), {S.DISPATCHED, S.SIGNED, S.HANDLING}, S.RETURN_REQUESTED, DEPARTMENT, scope="lead", comment_required=True),
        _t("accept_return", _("同意退回"), {S.RETURN_REQUESTED}, S.RETURNED, CONTROL),
        _t("refuse_return", _("不同意退回"), {S.RETURN_REQUESTED}, _back_to_status_before_return, CONTROL, comment_required=True),
        _t("reply", _("回复"), {S.SIGNED, S.HANDLING}, S.REPLIED, DEPARTMENT, scope="lead"),
        _t("approve_reply", _("审核通过"), {S.REPLIED}, S.REVIEWED, CONTROL | {Role.QUALITY_INSPECTOR}),
        _t("send_back", _("审核退回重办"), {S.REPLIED}, S.HANDLING, CONTROL | {Role.QUALITY_INSPECTOR}, comment_required=True),
        _t("callback", _("回访"), {S.REVIEWED, S.RESOLVED}, S.CALLED_BACK, frozenset({Role.CALL_TAKER, Role.TEAM_LEADER, Role.QUALITY_INSPECTOR})),
        _t("close", _("办结归档"), {S.CALLED_BACK, S.RESOLVED}, S.CLOSED, CONTROL),
        _t("reopen", _("重办"), {S.CALLED_BACK, S.CLOSED}, _reopen_target, CONTROL | {Role.SUPERVISOR}, comment_required=True),
        _t("merge", _("合并"), {S.DRAFT, S.REGISTERED, S.RETURNED}, S.MERGED, INTAKE),
        _t("void", _("作废"), {S.DRAFT, S.REGISTERED, S.RETURNED}, S.VOIDED, CONTROL, comment_required=True),
        _t("not_accept", _("不予受理"), {S.DRAFT, S.REGISTERED}, S.NOT_ACCEPTED, INTAKE, comment_required=True),
        # Actions that keep the status.
        _t("update", _("修改工单"), {S.DRAFT, S.REGISTERED, S.RETURNED}, None, INTAKE),
        _t("urge", _("催办"), set(OPEN_AT_DEPARTMENT), None, CONTROL | {Role.SUPERVISOR}),
        _t("supervise", _("督办"), set(OPEN_AT_DEPARTMENT) | {S.REPLIED}, None, frozenset({Role.SUPERVISOR}), comment_required=True),
        _t("answer_supervision", _("督办反馈"), set(OPEN_AT_DEPARTMENT) | {S.REPLIED}, None, DEPARTMENT, scope="lead", comment_required=True),
        _t("close_supervision", _("结束督办"), set(S), None, frozenset({Role.SUPERVISOR})),
        _t("request_extension", _("申请延期"), {S.SIGNED, S.HANDLING}, None, DEPARTMENT, scope="lead", comment_required=True),
        _t("approve_extension", _("同意延期"), {S.SIGNED, S.HANDLING, S.RETURN_REQUESTED}, None, CONTROL, guard="pending_extension_request"),
        _t("refuse_extension", _("不同意延期"), {S.SIGNED, S.HANDLING, S.RETURN_REQUESTED}, None, CONTROL, comment_required=True,
           guard="pending_extension_request"),
        _t("assist_opinion", _("协办意见"), set(OPEN_AT_DEPARTMENT), None, DEPARTMENT, scope="visible", comment_required=True),
        _t("attach", _("上传附件"), set(S) - {S.MERGED, S.VOIDED}, None, INTAKE | DEPARTMENT, scope="visible"),
        # Historical tickets brought in from the previous system (cases.imports).
        _t("import_closed", _("历史工单导入"), {S.DRAFT}, S.CLOSED, frozenset({Role.ADMIN, Role.TEAM_LEADER}), scope="role"),
    ]
}


def _has_pending_extension(ticket: Ticket) -> bool:
    from hotline.cases.models import ExtensionRequest, ExtensionStatus

    return ExtensionRequest.objects.filter(ticket_id=ticket.pk, status=ExtensionStatus.PENDING).exists()


#: Preconditions of guarded transitions: name -> test on the ticket (read under the
#: ticket's row lock when called from ``check`` inside an action).
GUARDS: dict[str, Callable[[Ticket], bool]] = {
    "pending_extension_request": _has_pending_extension,
}


def _guard_ok(ticket: Ticket, transition: Transition) -> bool:
    return transition.guard is None or GUARDS[transition.guard](ticket)


def _role_and_scope_ok(ticket: Ticket, user: User, transition: Transition) -> bool:
    if user.role not in transition.roles:
        return False
    if transition.scope == "lead":
        return access.in_lead_scope(user, ticket)
    if transition.scope == "role":
        return True
    return access.can_view(user, ticket)


def allowed_actions(ticket: Ticket, user: User) -> list[str]:
    """Actions this user may take on this ticket now (for pages and error messages)."""
    return [
        name
        for name, t in TRANSITIONS.items()
        if ticket.status in t.sources and _role_and_scope_ok(ticket, user, t) and _guard_ok(ticket, t)
    ]


def check(ticket: Ticket, user: User, name: str) -> Transition:
    """Raise unless ``user`` may take action ``name`` on ``ticket`` in its current state."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise IllegalTransition(name, ticket.status, allowed_actions(ticket, user))
    if ticket.status not in transition.sources:
        raise IllegalTransition(name, ticket.status, allowed_actions(ticket, user))
    if not _role_and_scope_ok(ticket, user, transition):
        who = Role(user.role).label if user.role else "?"
        raise Forbidden(f"role {who} may not {name} this ticket")
    if not _guard_ok(ticket, transition):
        raise IllegalTransition(name, ticket.status, allowed_actions(ticket, user), rule=transition.guard)
    return transition


def apply(
    ticket: Ticket,
    actor: User | None,
    transition: Transition,
    *,
    now: dt.datetime,
    comment: str = "",
    data: dict[str, Any] | None = None,
    kind: str | None = None,
) -> TicketEvent:
    """Move ``ticket`` to the transition's target, save it and append the event.

    Call inside ``transaction.atomic()`` with the ticket row locked; the caller has
    already run ``check`` (or, for the system actor, decided the action itself).
    """
    old = ticket.status
    target = transition.target
    new = target(ticket) if callable(target) else (target or old)
    ticket.status = new
    ticket.version += 1
    ticket.save()
    return append_event(ticket, actor, kind or transition.name, now=now, from_status=old, to_status=new, comment=comment, data=data)


def initial_state(ticket: Ticket, *, register: bool) -> list[tuple[str, str, Status]]:
    """Give a new ticket the status and version ``create`` will insert it with (the
    caller may need them before, e.g. for its audit row); returns the timeline steps."""
    steps: list[tuple[str, str, Status]] = [("create", "", Status.DRAFT)]
    ticket.status, ticket.version = Status.DRAFT, 0
    if register:
        transition = TRANSITIONS["register"]
        target = transition.target(ticket) if callable(transition.target) else transition.target
        assert isinstance(target, Status)
        steps.append((transition.name, Status.DRAFT, target))
        ticket.status, ticket.version = target, 1
    return steps


class NewTicket:
    """A new ticket's ``INSERT`` and its timeline events' ``INSERT``, parameters computed
    ahead (``lib.rows.Insert``): ``write()`` inside the registration's transaction fills
    in the ticket's citizen and number, then the events' ticket id."""

    __slots__ = ("ticket", "events", "_inserts")

    def __init__(self, ticket: Ticket, events: list[TicketEvent]) -> None:
        self.ticket, self.events = ticket, events
        self._inserts = (rows.Insert([ticket], late=("citizen", "number")), rows.Insert(events, late=("ticket",)))

    def write(self) -> list[TicketEvent]:
        """Call inside ``transaction.atomic()`` once the ticket has its citizen and number."""
        for insert in self._inserts:
            insert.run()
        return self.events


def prepare_create(ticket: Ticket, actor: User | None, *, now: dt.datetime, register: bool) -> NewTicket:
    """A new ticket with its ``create`` event and, when ``register``, already moved to
    the ``register`` transition's target with that event too: one ``INSERT`` for the
    ticket and one for both events (the registration path of the API), written by the
    returned ``NewTicket.write()``. Everything but the citizen and the number is final
    when this is called; the caller checked the actor's role.
    """
    steps = initial_state(ticket, register=register)
    # Plain INSERT … RETURNING statements (``lib.rows``: the values Django's save would
    # write, post_save sent as save would: live updates listen to the events).
    events = [_event(ticket, actor, kind, now=now, from_status=old or new, to_status=new) for kind, old, new in steps]
    return NewTicket(ticket, events)


def _event(
    ticket: Ticket,
    actor: User | None,
    kind: str,
    *,
    now: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    return rows.build(
        TicketEvent,
        ticket=ticket,
        at=now,
        kind=kind,
        actor=actor,
        actor_name=(str(actor) if actor is not None else "系统"),
        actor_department_id=getattr(actor, "department_id", None),
        from_status=from_status or ticket.status,
        to_status=to_status or ticket.status,
        comment=comment,
        data=data or {},
    )


def append_event(
    ticket: Ticket,
    actor: User | None,
    kind: str,
    *,
    now: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    event = _event(ticket, actor, kind, now=now, from_status=from_status, to_status=to_status, comment=comment, data=data)
    event.save()
    return event
