"""A call-taker records a citizen in the directory while, at the same moment, a ticket
with that phone is registered or corrected to it. On PostgreSQL the ticket's look-up
misses the uncommitted row and its INSERT meets ``citizen_phone_unique``: it waits for
the editor's commit, writes nothing (``ON CONFLICT DO NOTHING``) and links the editor's
citizen (SQLite's write lock makes the ticket wait and find it at once).
Either way: one citizen, the ticket on it, no error. Real threads and connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from hotline.cases import actions
from hotline.cases.models import Ticket
from hotline.directory import actions as directory_actions
from hotline.directory.models import Citizen
from tests.conftest import People, ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def editor_holds_the_new_row(monkeypatch: pytest.MonkeyPatch, inserted: threading.Event) -> None:
    """The directory's citizen INSERT is done but not committed for half a second."""
    real_record = directory_actions.audit.record

    def record(*args: Any, **kwargs: Any) -> Any:
        out = real_record(*args, **kwargs)
        if args[1] == "citizen.create":
            inserted.set()
            time.sleep(0.5)
        return out

    monkeypatch.setattr(directory_actions.audit, "record", record)


def run_both(editor: Callable[[], Any], ticket_write: Callable[[], Any], inserted: threading.Event) -> list[Any]:
    results: list[Any] = [None, None]

    def worker(i: int, fn: Callable[[], Any]) -> None:
        try:
            if i == 1:
                assert inserted.wait(timeout=10)
            results[i] = fn()
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate([editor, ticket_write])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_a_registration_meanwhile_links_the_editors_citizen(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    inserted = threading.Event()
    editor_holds_the_new_row(monkeypatch, inserted)
    citizen, ticket = run_both(
        lambda: directory_actions.do_create_citizen(people.team_leader, {"phone": "13955550001", "name": "编辑录入"}),
        lambda: actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13955550001")),
        inserted,
    )
    assert isinstance(citizen, Citizen) and isinstance(ticket, Ticket), (citizen, ticket)
    assert Citizen.objects.filter(phone="13955550001").count() == 1
    assert Ticket.objects.get(pk=ticket.pk).citizen_id == citizen.pk


def test_a_phone_correction_meanwhile_links_the_editors_citizen(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13955550002"))
    inserted = threading.Event()
    editor_holds_the_new_row(monkeypatch, inserted)
    citizen, updated = run_both(
        lambda: directory_actions.do_create_citizen(people.team_leader, {"phone": "13955550003", "name": "编辑录入"}),
        lambda: actions.do_update_ticket(ticket.pk, people.call_taker, {"contact_phone": "13955550003"}),
        inserted,
    )
    assert isinstance(citizen, Citizen) and isinstance(updated, Ticket), (citizen, updated)
    assert Citizen.objects.filter(phone="13955550003").count() == 1
    assert Ticket.objects.get(pk=ticket.pk).citizen_id == citizen.pk


def test_a_historical_import_meanwhile_links_the_editors_citizen(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from django.utils import timezone

    opened = timezone.make_aware(dt.datetime(2025, 3, 3, 9, 0))
    inserted = threading.Event()
    editor_holds_the_new_row(monkeypatch, inserted)
    citizen, ticket = run_both(
        lambda: directory_actions.do_create_citizen(people.team_leader, {"phone": "13955550004", "name": "编辑录入"}),
        lambda: actions.do_import_historical(
            people.team_leader, ticket_input(contact_phone="13955550004"), number=None, created_at=opened,
            closed_at=opened + dt.timedelta(days=3), lead_department="water", result="已修复", satisfaction="satisfied"),
        inserted,
    )
    assert isinstance(citizen, Citizen) and isinstance(ticket, Ticket), (citizen, ticket)
    assert Citizen.objects.filter(phone="13955550004").count() == 1
    assert Ticket.objects.get(pk=ticket.pk).citizen_id == citizen.pk
