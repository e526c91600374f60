"""Two people press "sign for" on the same ticket at the same moment: exactly one
succeeds, the other is told the ticket is already signed. Ticket numbers stay unique
when many call-takers register at once. Real threads, real database connections."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from hotline.cases import actions
from hotline.cases.models import Ticket
from hotline.lib.errors import IllegalTransition
from tests.conftest import People, Tree, run_together, ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_sign_for_requests_at_once_one_wins(people: People, tree: Tree) -> None:
    for _ in range(3):  # a few rounds: the race must be lost the same way every time
        t = actions.do_create_ticket(people.call_taker, ticket_input())
        actions.do_dispatch(t.pk, people.dispatcher, tree.donghua.pk)
        results = run_together([lambda pk=t.pk: actions.do_sign_for(pk, people.handler), lambda pk=t.pk: actions.do_sign_for(pk, people.manager)])
        winners = [r for r in results if isinstance(r, Ticket)]
        losers = [r for r in results if isinstance(r, IllegalTransition)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0].current == "signed"
        assert Ticket.objects.get(pk=t.pk).events.filter(kind="sign_for").count() == 1


def test_ticket_numbers_are_unique_under_concurrent_registration(people: People) -> None:
    results = run_together([lambda: actions.do_create_ticket(people.call_taker, ticket_input()) for _ in range(8)])
    assert all(isinstance(r, Ticket) for r in results), results
    numbers = [r.number for r in results]
    assert len(set(numbers)) == 8
    assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 9))


def test_two_first_calls_from_one_new_phone_make_one_citizen(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both registrations look the new phone up before either has written the citizen
    (forced on PostgreSQL by holding each after its first look-up until the other has
    made its own; on SQLite the first BEGIN IMMEDIATE already keeps the second out)."""
    from hotline.directory.models import Citizen

    for round_ in range(3):
        phone = f"1390000{round_:04d}"
        if connection.vendor == "postgresql":
            both_looked = threading.Barrier(2)
            real_lookup = actions._citizen_lookup
            first_look: set[int] = set()

            def lookup(p: str) -> Any:
                found = real_lookup(p)
                if threading.get_ident() not in first_look:
                    first_look.add(threading.get_ident())
                    both_looked.wait(timeout=10)
                return found

            monkeypatch.setattr(actions, "_citizen_lookup", lookup)
        results = run_together([lambda: actions.do_create_ticket(people.call_taker, ticket_input(contact_phone=phone)) for _ in range(2)])
        monkeypatch.undo()
        assert all(isinstance(r, Ticket) for r in results), results
        assert Citizen.objects.filter(phone=phone).count() == 1
        citizen = Citizen.objects.get(phone=phone)
        assert {r.citizen_id for r in results} == {citizen.pk}
        from hotline.audit.models import AuditEntry

        assert AuditEntry.objects.filter(action="citizen.create", object_id=str(citizen.pk)).count() == 1
