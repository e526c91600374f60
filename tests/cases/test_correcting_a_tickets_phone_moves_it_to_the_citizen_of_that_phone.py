"""A call-taker corrects a mistyped number on a ticket: the ticket moves to the citizen
of the corrected number (found, or created as registration does), and the audit log
says so: the ticket's row records contact_phone and the citizen link, a created or
completed citizen has its own ``citizen.*`` row. The citizen of the wrong number stays
as it was."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.audit.models import AuditEntry
from hotline.cases import actions
from hotline.directory import actions as directory_actions
from hotline.directory.models import Citizen
from hotline.lib.errors import InvalidInput, NotFound
from tests.conftest import People, ticket_input

pytestmark = pytest.mark.django_db


def _changes(entry: AuditEntry) -> dict[str, Any]:
    return {c["field"]: (c["old"], c["new"]) for c in entry.changes}


def _last_update(ticket_pk: int) -> AuditEntry:
    return AuditEntry.objects.filter(action="ticket.update", object_id=str(ticket_pk)).order_by("-id")[0]


def test_a_new_number_creates_its_citizen_and_moves_the_ticket(people: People) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13911110000", citizen_name="钱先生"))
    wrong = Citizen.objects.get(phone="13911110000")
    actions.do_update_ticket(ticket.pk, people.call_taker, {"contact_phone": "139 1111 0001", "id_number": "11010519491231002X"})

    ticket.refresh_from_db()
    right = Citizen.objects.get(phone="13911110001")
    assert ticket.citizen_id == right.pk and ticket.contact_phone == "13911110001"
    assert right.name == "钱先生" and right.id_number == "11010519491231002X"
    created = AuditEntry.objects.get(action="citizen.create", object_id=str(right.pk))
    assert created.actor_id == people.call_taker.pk and _changes(created)["phone"] == (None, "13911110001")
    assert _changes(_last_update(ticket.pk)) == {"contact_phone": ("13911110000", "13911110001"), "citizen": (wrong.pk, right.pk)}
    assert not AuditEntry.objects.filter(action="citizen.update", object_id=str(right.pk)).exists()  # created complete
    event = ticket.events.filter(kind="update").get()
    assert event.data["fields"] == ["citizen", "contact_phone"]
    # the citizen of the wrong number is untouched
    wrong_after = Citizen.objects.get(pk=wrong.pk)
    assert (wrong_after.phone, wrong_after.name, wrong_after.id_number) == ("13911110000", "钱先生", "")


def test_a_known_number_links_its_citizen_and_completes_an_empty_name(people: People) -> None:
    known = directory_actions.do_create_citizen(people.call_taker, {"phone": "13922220001", "tags": ["VIP"]})
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13922220000", citizen_name="孙女士"))
    wrong = ticket.citizen_id
    actions.do_update_ticket(ticket.pk, people.call_taker, {"contact_phone": "13922220001"})

    ticket.refresh_from_db()
    assert ticket.citizen_id == known.pk
    assert Citizen.objects.filter(phone="13922220001").count() == 1
    known.refresh_from_db()
    assert known.name == "孙女士" and known.tags == ["VIP"]
    completed = AuditEntry.objects.get(action="citizen.update", object_id=str(known.pk))
    assert _changes(completed) == {"name": ("", "孙女士")}
    assert _changes(_last_update(ticket.pk))["citizen"] == (wrong, known.pk)


def test_other_changes_and_the_same_number_keep_the_citizen(people: People) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13933330000"))
    citizen = ticket.citizen_id
    citizens = Citizen.objects.count()
    actions.do_update_ticket(ticket.pk, people.call_taker, {"address": "东城区东华路90号", "contact_phone": "13933330000"})
    ticket.refresh_from_db()
    assert ticket.citizen_id == citizen and Citizen.objects.count() == citizens
    assert _changes(_last_update(ticket.pk)) == {"address": ("东城区东华路88号", "东城区东华路90号")}


def test_a_refused_or_failed_correction_creates_no_citizen(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13944440000"))
    with pytest.raises(InvalidInput):
        actions.do_update_ticket(ticket.pk, people.call_taker, {"contact_phone": "13944440001", "source": "no-such-source"})
    with pytest.raises(NotFound):  # a department handler cannot see a ticket not dispatched to them
        actions.do_update_ticket(ticket.pk, people.handler, {"contact_phone": "13944440001"})

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the ticket's write failed after the citizen was written")

    audit_rows = AuditEntry.objects.count()
    monkeypatch.setattr(actions.lifecycle, "apply", broken)
    with pytest.raises(RuntimeError):
        actions.do_update_ticket(ticket.pk, people.call_taker, {"contact_phone": "13944440001"})
    assert not Citizen.objects.filter(phone="13944440001").exists()
    assert AuditEntry.objects.count() == audit_rows
    ticket.refresh_from_db()
    assert ticket.contact_phone == "13944440000"
