"""Who may see which tickets and which personal data. The one place for it.

Filtering happens in SQL (``visible_tickets``); single objects go through
``get_visible_ticket`` which raises NotFound — a department user probing another
department's ticket learns nothing, not even that it exists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from hotline.accounts.models import DEPARTMENT_ROLES, Role, User
from hotline.cases.models import Ticket, TicketAssist
from hotline.directory.models import Department
from hotline.lib.errors import Forbidden, NotFound

#: Center roles that read every ticket.
READ_ALL_ROLES = frozenset(
    {
        Role.CALL_TAKER,
        Role.TEAM_LEADER,
        Role.DISPATCHER,
        Role.SUPERVISOR,
        Role.QUALITY_INSPECTOR,
        Role.STATISTICIAN,
        Role.AUDITOR,
    }
)
#: Roles that see citizens' phone numbers in full (department roles unless confidential).
FULL_PHONE_ROLES = frozenset({Role.CALL_TAKER, Role.TEAM_LEADER, Role.DISPATCHER}) | DEPARTMENT_ROLES
#: Roles that see ID numbers in full.
FULL_ID_ROLES = frozenset({Role.CALL_TAKER, Role.TEAM_LEADER})


def department_scope(user: User) -> Q:
    """Tickets whose lead or an assisting department is the user's department or below it.

    The subtree is resolved to department ids first (a handful of rows), so the ticket
    filter is ``lead_department_id IN (…) OR id IN (assists of those departments)``:
    no join to the department table, and the indexes on ``lead_department`` and
    ``cases_ticketassist.department`` apply.
    """
    prefix = user.department.path if user.department_id and user.department else None
    if not prefix:
        return Q(pk__in=[])
    subtree = list(Department.objects.filter(path__startswith=prefix).values_list("pk", flat=True))
    assisting = TicketAssist.objects.filter(department_id__in=subtree).values("ticket_id")
    return Q(lead_department_id__in=subtree) | Q(pk__in=assisting)


def department_scope_parts(user: User) -> list[Q] | None:
    """``department_scope`` as two disjoint halves — lead department in the subtree;
    assisting only — whose union it is; None for users not limited to a department.

    Counting each half separately lets each use its own index (``lead_department``,
    ``cases_ticketassist.department``); PostgreSQL plans the ``OR`` of both as a
    sequential scan of the whole table.
    """
    if not user.is_active or user.role in READ_ALL_ROLES or user.role not in DEPARTMENT_ROLES:
        return None
    prefix = user.department.path if user.department_id and user.department else None
    if not prefix:
        return [Q(pk__in=[])]
    subtree = list(Department.objects.filter(path__startswith=prefix).values_list("pk", flat=True))
    assisting = TicketAssist.objects.filter(department_id__in=subtree).values("ticket_id")
    lead = Q(lead_department_id__in=subtree)
    return [lead, Q(pk__in=assisting) & ~lead]


def visible_tickets(user: User, base: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    qs = Ticket.objects.all() if base is None else base
    if not user.is_active:
        return qs.none()
    if user.role in READ_ALL_ROLES:
        return qs
    if user.role in DEPARTMENT_ROLES:
        return qs.filter(department_scope(user))
    return qs.none()


def get_visible_ticket(user: User, ticket_id: int | str, *, for_update: bool = False) -> Ticket:
    qs = Ticket.objects.all()
    if for_update:
        qs = qs.select_for_update()
    ticket = qs.filter(**ticket_lookup(ticket_id)).first()
    if ticket is None or not can_view(user, ticket):
        raise NotFound("ticket not found")
    return ticket


def ticket_lookup(ref: int | str) -> dict[str, Any]:
    """A database id (short number) or a ticket number (12+ digits)."""
    text = str(ref)
    if text.isdigit() and len(text) < 12:
        return {"pk": int(text)}
    return {"number": text}


def can_view(user: User, ticket: Ticket) -> bool:
    if not user.is_active:
        return False
    if user.role in READ_ALL_ROLES:
        return True
    if user.role in DEPARTMENT_ROLES:
        return visible_tickets(user, Ticket.objects.filter(pk=ticket.pk)).exists()
    return False


def in_lead_scope(user: User, ticket: Ticket) -> bool:
    """The user's department is the lead department or one of its ancestors."""
    if user.role not in DEPARTMENT_ROLES or not user.department_id or not ticket.lead_department_id:
        return False
    lead = ticket.lead_department
    return bool(lead and user.department and lead.path.startswith(user.department.path))


def mask_phone(phone: str) -> str:
    """138****1234 style: keep the first 3 and last 4 digits."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return phone[:1] + "*" * (len(phone) - 2) + phone[-1:] if len(phone) > 2 else "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(value: str) -> str:
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def sees_phone(user: User, ticket: Ticket | None = None) -> bool:
    if user.role not in FULL_PHONE_ROLES:
        return False
    if user.role in DEPARTMENT_ROLES and ticket is not None and ticket.confidential:
        return False
    return True


def sees_id_number(user: User) -> bool:
    return user.role in FULL_ID_ROLES


def phone_for(user: User, ticket: Ticket | None, phone: str) -> str:
    return phone if sees_phone(user, ticket) else mask_phone(phone)


def require_role(user: User, roles: Any, what: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"role {Role(user.role).label} may not {what}")
