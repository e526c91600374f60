"""Who may configure telephony, list call records and hear recordings. The one place for it.

Least privilege, per role (``accounts.Role``):

- **Configuration** (agents' SIP passwords, trunks, DID routes): system administrators only.
- **Call records (CDRs)**: an agent (any role with an extension) sees the calls they
  took or placed; team leaders, quality inspectors and supervisors see every call
  (they monitor and check agents); administrators see every call record to run the
  system (numbers masked), but hear no recordings. Department users, statisticians,
  dispatchers and auditors see no CDR list.
- **Recordings** are personal data: the agent of the call, team leaders, quality
  inspectors and supervisors may play them; call-takers, dispatchers and department
  users also when the call is linked to a ticket (``Ticket.recording_ref ==
  "call:<call_id>"``) they may see (``cases.access.visible_tickets``: a department user
  for tickets in their scope). Administrators, statisticians and auditors hear none.
  Every playback writes an audit row (``telephony.actions.open_recording``).
- **Caller numbers** are shown in full or masked by ``cases.access.sees_phone`` (the same
  rule as tickets): call-takers, team leaders and dispatchers in full, others masked.

Lists are filtered in SQL (``visible_calls``); single records go through
``get_visible_call`` / ``get_playable_call``, which raise NotFound so nobody learns
that a call they may not see exists.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from hotline.accounts.models import Role, User
from hotline.cases import access as case_access
from hotline.cases.models import Ticket
from hotline.lib.errors import Forbidden, NotFound
from hotline.telephony.models import CallRecord

#: Roles that see every call record and hear every recording.
CALL_MONITOR_ROLES = frozenset({Role.TEAM_LEADER, Role.QUALITY_INSPECTOR, Role.SUPERVISOR})
#: Roles that hear a recording because they work on the ticket registered from the call
#: (statisticians and auditors read tickets but have no need to hear citizens).
TICKET_LINK_ROLES = frozenset({Role.CALL_TAKER, Role.DISPATCHER, Role.DEPT_HANDLER, Role.DEPT_MANAGER})


def _label(user: User) -> str:
    try:
        return str(Role(user.role).label)
    except ValueError:
        return str(user.role)


def can_configure(user: User) -> bool:
    return bool(user.is_active and user.role == Role.ADMIN)


def require_admin(user: User, what: str) -> None:
    if not can_configure(user):
        raise Forbidden(f"role {_label(user)} may not {what}: system administrators only")


def _own_calls(user: User) -> Q:
    q = Q(agent_id=user.pk)
    if user.extension:
        q |= Q(agent_id__isnull=True, agent_extension=user.extension)
    return q


def visible_calls(user: User, base: QuerySet[CallRecord] | None = None) -> QuerySet[CallRecord]:
    """Call records ``user`` may list (metadata)."""
    qs = CallRecord.objects.all() if base is None else base
    if not user.is_active:
        return qs.none()
    if user.role in CALL_MONITOR_ROLES or user.role == Role.ADMIN:
        return qs
    if user.is_department_user:
        return qs.none()
    return qs.filter(_own_calls(user))


def can_list_calls(user: User) -> bool:
    return bool(user.is_active and (user.role in CALL_MONITOR_ROLES or user.role == Role.ADMIN or (user.extension and not user.is_department_user)))


def get_visible_call(user: User, call_id: str) -> CallRecord:
    call = visible_calls(user).filter(call_id=call_id).first()
    if call is None:
        raise NotFound("call not found")
    return call


def linked_tickets(user: User, call: CallRecord) -> QuerySet[Ticket]:
    """Tickets ``user`` may see that were registered from ``call``."""
    return case_access.visible_tickets(user, Ticket.objects.filter(recording_ref=call.ref))


def can_play(user: User, call: CallRecord) -> bool:
    if not user.is_active or not call.recording_path:
        return False
    if user.role in CALL_MONITOR_ROLES:
        return True
    if user.role != Role.ADMIN and not user.is_department_user:
        if call.agent_id == user.pk or (call.agent_id is None and user.extension and call.agent_extension == user.extension):
            return True
    if user.role not in TICKET_LINK_ROLES:
        return False  # e.g. administrators run the system; they do not listen to citizens
    return linked_tickets(user, call).exists()


def get_playable_call(user: User, call_id: str) -> CallRecord:
    call = CallRecord.objects.filter(call_id=call_id).first()
    if call is None or not can_play(user, call):
        raise NotFound("recording not found")
    return call


def caller_for(user: User, number: str, ticket: Ticket | None = None) -> str:
    """A caller's number as ``user`` may see it (``cases.access`` masking rules)."""
    return case_access.phone_for(user, ticket, number)
