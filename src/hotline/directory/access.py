"""Who may read and change the data dictionary and the citizens' records.

- The dictionary (departments, categories, service types, sources, districts,
  deadline rules, holidays, parameters) is read by every active user — center roles
  and departments need it to register, dispatch and transfer — and changed only by
  the system administrator.
- Citizens' records are personal data: the intake roles (call-taker, team leader,
  dispatcher) look them up, edit them and keep the blacklist; supervisors and
  quality inspectors may read them (callbacks, checks) with phone and ID number
  masked. Everybody else, administrators and departments included, sees none.
  Masking reuses ``cases.access`` (the one place that decides who sees a phone).

Filtering is in SQL (``visible_citizens``); single objects go through
``get_visible_citizen`` which raises NotFound.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from hotline.accounts.models import Role, User
from hotline.cases.access import mask_id_number, mask_phone, sees_id_number, sees_phone
from hotline.directory.models import Citizen
from hotline.lib.errors import Forbidden, NotFound

#: Roles that look up, create and edit citizens and keep the blacklist.
CITIZEN_EDIT_ROLES = frozenset({Role.CALL_TAKER, Role.TEAM_LEADER, Role.DISPATCHER})
#: Roles that may read citizens' records (masking decides how much they see).
CITIZEN_READ_ROLES = CITIZEN_EDIT_ROLES | {Role.SUPERVISOR, Role.QUALITY_INSPECTOR}


def _label(user: User) -> str:
    try:
        return str(Role(user.role).label)
    except ValueError:
        return str(user.role)


def can_read_dictionary(user: User) -> bool:
    return bool(user.is_active and user.role in Role.values)


def can_change_dictionary(user: User) -> bool:
    return bool(user.is_active and user.role == Role.ADMIN)


def require_dictionary_reader(user: User) -> None:
    if not can_read_dictionary(user):
        raise Forbidden("this account may not read the data dictionary")


def require_dictionary_admin(user: User, what: str = "change the data dictionary") -> None:
    """Dictionary entries, deadline rules, holidays and parameters: administrators only."""
    if not can_change_dictionary(user):
        raise Forbidden(f"role {_label(user)} may not {what}: system administrators only")


def can_read_citizens(user: User) -> bool:
    return bool(user.is_active and user.role in CITIZEN_READ_ROLES)


def can_edit_citizens(user: User) -> bool:
    return bool(user.is_active and user.role in CITIZEN_EDIT_ROLES)


def require_citizen_reader(user: User) -> None:
    if not can_read_citizens(user):
        raise Forbidden(f"role {_label(user)} may not look up citizens' records")


def require_citizen_editor(user: User, what: str = "change citizens' records") -> None:
    if not can_edit_citizens(user):
        raise Forbidden(f"role {_label(user)} may not {what}: call-takers, team leaders and dispatchers only")


def visible_citizens(user: User, base: QuerySet[Citizen] | None = None) -> QuerySet[Citizen]:
    qs = Citizen.objects.all() if base is None else base
    return qs if can_read_citizens(user) else qs.none()


def get_visible_citizen(user: User, citizen_id: int, *, for_update: bool = False) -> Citizen:
    require_citizen_reader(user)
    qs = visible_citizens(user)
    if for_update:
        qs = qs.select_for_update(no_key=True)  # tickets referring to the citizen are not blocked
    citizen = qs.filter(pk=citizen_id).first()
    if citizen is None:
        raise NotFound("citizen not found")
    return citizen


def citizen_view(user: User, citizen: Citizen, now: dt.datetime) -> dict[str, Any]:
    """A citizen as ``user`` may see it: phones and ID number masked unless the role
    needs them in full (``cases.access.sees_phone`` / ``sees_id_number``)."""
    full_phone = sees_phone(user)
    full_id = sees_id_number(user)
    return {
        "id": citizen.pk,
        "name": citizen.name,
        "phone": citizen.phone if full_phone else mask_phone(citizen.phone),
        "other_phones": [p if full_phone else mask_phone(p) for p in (citizen.other_phones or [])],
        "id_number": citizen.id_number if full_id else mask_id_number(citizen.id_number),
        "address": citizen.address,
        "tags": list(citizen.tags or []),
        "blacklisted": citizen.is_blacklisted(now),
        "blacklist_until": citizen.blacklist_until if citizen.blacklisted else None,
        "blacklist_reason": citizen.blacklist_reason if citizen.blacklisted else "",
        "created_at": citizen.created_at,
        "phone_masked": not full_phone,
        "id_number_masked": not full_id,
    }
