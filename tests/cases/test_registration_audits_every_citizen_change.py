"""Registering a ticket creates or completes the caller's citizen record, and every such
change has its audit row, in the same transaction as the ticket; so does correcting a
ticket's ID number."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.audit.models import AuditEntry
from hotline.cases import actions
from hotline.directory.models import Citizen
from tests.conftest import People, ticket_input

pytestmark = pytest.mark.django_db


def _changes(entry: AuditEntry) -> dict[str, Any]:
    return {c["field"]: (c["old"], c["new"]) for c in entry.changes}


def test_a_new_phone_creates_a_citizen_with_an_audit_row(people: People) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13911112222", citizen_name="李女士",
                                                                      id_number="11010519491231002X"))
    citizen = Citizen.objects.get(phone="13911112222")
    assert ticket.citizen_id == citizen.pk
    entry = AuditEntry.objects.get(action="citizen.create", object_id=str(citizen.pk))
    assert entry.object_type == "directory.citizen" and entry.actor_id == people.call_taker.pk
    assert entry.at == ticket.created_at
    changes = _changes(entry)
    assert changes["phone"] == (None, "13911112222") and changes["name"] == (None, "李女士")
    assert changes["id_number"] == (None, "11010519491231002X")
    # the ticket's own audit row is there too
    assert AuditEntry.objects.filter(action="ticket.create", object_id=str(ticket.pk)).count() == 1


def test_a_known_phone_reuses_the_citizen_and_audits_only_a_completion(people: People) -> None:
    first = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13933334444", citizen_name=""))
    citizen = Citizen.objects.get(phone="13933334444")
    assert citizen.name == ""
    second = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13933334444", citizen_name="赵先生"))
    third = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13933334444", citizen_name="别人"))
    assert first.citizen_id == second.citizen_id == third.citizen_id == citizen.pk
    assert Citizen.objects.filter(phone="13933334444").count() == 1
    citizen.refresh_from_db()
    assert citizen.name == "赵先生"  # filled once, never overwritten
    updates = list(AuditEntry.objects.filter(action="citizen.update", object_id=str(citizen.pk)))
    assert len(updates) == 1 and _changes(updates[0]) == {"name": ("", "赵先生")}
    assert AuditEntry.objects.filter(action="citizen.create", object_id=str(citizen.pk)).count() == 1


def test_correcting_the_id_number_on_a_ticket_audits_the_citizen(people: People) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13955556666"))
    actions.do_update_ticket(ticket.pk, people.call_taker, {"id_number": "11010519491231002x"})
    citizen = Citizen.objects.get(phone="13955556666")
    assert citizen.id_number == "11010519491231002X"
    entry = AuditEntry.objects.get(action="citizen.update", object_id=str(citizen.pk))
    assert _changes(entry) == {"id_number": ("", "11010519491231002X")}
    # the same number again changes nothing and writes no second row
    actions.do_update_ticket(ticket.pk, people.call_taker, {"id_number": "11010519491231002X"})
    assert AuditEntry.objects.filter(action="citizen.update", object_id=str(citizen.pk)).count() == 1


def test_a_failed_registration_leaves_neither_citizen_nor_audit_row(people: People) -> None:
    with pytest.raises(Exception):
        actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13977778888", source="no-such-source"))
    assert not Citizen.objects.filter(phone="13977778888").exists()
    assert not AuditEntry.objects.filter(action="citizen.create").exists()
