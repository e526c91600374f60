"""The day's ticket counter is one row. On PostgreSQL a registration takes its number
in a statement of its own before its transaction (``actions.number_ahead``), so a
registration still busy inside its transaction does not make the next one wait for
the counter's row lock; on SQLite, whose single write lock serialises registrations
whatever is done, the next one waits for the first and then takes the next number.
Real threads and database connections; the first registration is held inside its
transaction, after its number was taken, until the test lets it go."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from hotline.cases import actions, lifecycle
from hotline.cases.models import Ticket
from tests.conftest import People, ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_registration_held_in_its_transaction_and_the_next_one(people: People, monkeypatch: Any) -> None:
    actions.do_create_ticket(people.call_taker, ticket_input())  # the day's counter row exists
    inside, release = threading.Event(), threading.Event()
    write = lifecycle.NewTicket.write

    def held_write(self: Any) -> Any:
        if threading.current_thread().name == "first":
            inside.set()
            assert release.wait(30)
        return write(self)

    monkeypatch.setattr(lifecycle.NewTicket, "write", held_write)
    results: dict[str, Any] = {}

    def register(name: str) -> None:
        try:
            results[name] = actions.do_create_ticket(people.call_taker, ticket_input(summary=f"{name} 停水"))
        except Exception as exc:  # asserted below
            results[name] = exc
        finally:
            connection.close()

    first = threading.Thread(target=register, args=("first",), name="first")
    first.start()
    try:
        assert inside.wait(30), "the first registration did not reach its INSERTs"
        second = threading.Thread(target=register, args=("second",), name="second")
        second.start()
        second.join(3)
        if connection.vendor == "postgresql":
            assert not second.is_alive(), "the second registration waited for the first one's transaction"
            assert isinstance(results["second"], Ticket), results
            assert "first" not in results  # still held
        else:
            assert second.is_alive(), "SQLite: the second registration cannot write while the first holds the lock"
    finally:
        release.set()
        first.join(30)
    second.join(30)
    a, b = results["first"], results["second"]
    assert isinstance(a, Ticket) and isinstance(b, Ticket), results
    numbers = sorted(int(t.number[-5:]) for t in (a, b))
    assert numbers == [2, 3]  # unique and consecutive: the first took its number first
    assert int(a.number[-5:]) == 2
    assert Ticket.objects.filter(number__in=[a.number, b.number]).count() == 2
