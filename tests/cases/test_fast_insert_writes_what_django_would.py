"""``lib.rows.insert`` (the registration path's plain INSERTs) writes, column by
column, what Django's own ``save`` writes for the same instance, and announces the
rows with ``post_save`` as ``save`` does; ``insert_unless`` writes nothing over a row
with the same unique values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.utils import timezone

from hotline.audit import actions as audit
from hotline.audit.models import AuditEntry
from hotline.cases.models import Ticket, TicketEvent, Urgency
from hotline.directory.models import Citizen, ServiceType, Source
from hotline.lib import rows
from tests.conftest import People

pytestmark = pytest.mark.django_db


def _raw_row(model: Any, pk: int, skip: set[str]) -> dict[str, Any]:
    columns = [f.column for f in model._meta.concrete_fields if f.column not in skip]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return dict(zip(columns, cursor.fetchone()))


def _ticket(people: People, number: str, code: str) -> Ticket:
    when = timezone.make_aware(dt.datetime(2026, 12, 1, 9, 30, 15, 123456))
    return Ticket(
        number=number, query_code=code, status="registered", citizen_name="王先生", contact_phone="13800000000",
        source=Source.objects.get(code="phone"), service_type=ServiceType.objects.get(code="complaint"),
        summary="停水", content="小区停水。", urgency=Urgency.URGENT, longitude=Decimal("120.123456"), latitude=Decimal("30.5"),
        registered_by=people.call_taker, created_at=when, registered_at=when, version=1, confidential=True,
    )


def test_a_ticket_row_equals_the_one_django_writes(people: People) -> None:
    ours, theirs = _ticket(people, "2026120100001", "AAAA2222"), _ticket(people, "2026120100002", "BBBB3333")
    rows.insert([ours])
    theirs.save(force_insert=True)
    skip = {"id", "number", "query_code", "updated_at"}
    assert _raw_row(Ticket, ours.pk, skip) == _raw_row(Ticket, theirs.pk, skip)
    assert Ticket.objects.get(pk=ours.pk).updated_at is not None  # auto_now filled in
    assert not ours._state.adding and ours._state.db == "default"


def test_events_audit_rows_and_citizens_equal_djangos(people: People) -> None:
    ticket = _ticket(people, "2026120100003", "CCCC4444")
    rows.insert([ticket])
    when = ticket.created_at
    made = [TicketEvent(ticket=ticket, at=when, kind=k, actor=people.call_taker, actor_name="calltaker", from_status="draft",
                        to_status="registered", data={"n": 1, "文": "字"}) for k in ("create", "register")]
    rows.insert(made)
    assert made[0].pk < made[1].pk
    django_made = TicketEvent(ticket=ticket, at=when, kind="create", actor=people.call_taker, actor_name="calltaker",
                              from_status="draft", to_status="registered", data={"n": 1, "文": "字"})
    django_made.save()
    assert _raw_row(TicketEvent, made[0].pk, {"id"}) == _raw_row(TicketEvent, django_made.pk, {"id"})

    ours = audit.entry(people.call_taker, "ticket.create", ticket, changes=[{"field": "x", "old": None, "new": when}], at=when)
    theirs = audit.entry(people.call_taker, "ticket.create", ticket, changes=[{"field": "x", "old": None, "new": when}], at=when)
    ours.ip = theirs.ip = "192.0.2.7"
    audit.record_all([ours])
    theirs.save()
    assert _raw_row(AuditEntry, ours.pk, {"id"}) == _raw_row(AuditEntry, theirs.pk, {"id"})

    c1, c2 = Citizen(phone="13800000001", name="甲", tags=["VIP"]), Citizen(phone="13800000002", name="甲", tags=["VIP"])
    rows.insert([c1])
    c2.save()
    assert _raw_row(Citizen, c1.pk, {"id", "phone", "created_at"}) == _raw_row(Citizen, c2.pk, {"id", "phone", "created_at"})
    assert Citizen.objects.get(pk=c1.pk).tags == ["VIP"]


def test_insert_sends_post_save_like_save(people: People) -> None:
    seen: list[tuple[Any, bool]] = []

    def receiver(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append((instance, created))

    post_save.connect(receiver, sender=Citizen)
    try:
        c = Citizen(phone="13800000003")
        rows.insert([c])
    finally:
        post_save.disconnect(receiver, sender=Citizen)
    assert seen == [(c, True)]


def test_insert_refuses_saved_or_mixed_instances(people: People) -> None:
    c = Citizen(phone="13800000004")
    rows.insert([c])
    with pytest.raises(ValueError):
        rows.insert([c])
    with pytest.raises(ValueError):
        rows.insert([Citizen(phone="13800000005"), Source(code="x", name="x")])


def test_insert_unless_writes_a_new_row_and_nothing_over_an_existing_one(people: People) -> None:
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append(instance)

    post_save.connect(receiver, sender=Citizen)
    try:
        first = Citizen(phone="13800000006", name="甲", tags=["VIP"])
        assert rows.insert_unless(first, ("phone",)) is True
        assert first.pk is not None and not first._state.adding
        second = Citizen(phone="13800000006", name="乙")
        assert rows.insert_unless(second, ("phone",)) is False
        assert second.pk is None and second._state.adding
    finally:
        post_save.disconnect(receiver, sender=Citizen)
    assert seen == [first]
    stored = Citizen.objects.get(phone="13800000006")
    assert (stored.pk, stored.name, stored.tags) == (first.pk, "甲", ["VIP"])
    with pytest.raises(ValueError):
        rows.insert_unless(first, ("phone",))


def test_first_by_reads_what_the_orm_reads(people: People) -> None:
    until = timezone.make_aware(dt.datetime(2027, 1, 2, 3, 4, 5))
    Citizen.objects.create(phone="13800000009", name="后来", tags=["x"])
    older = Citizen.objects.create(phone="13800000010", name="甲", tags=["VIP", "老年人"], other_phones=["010-1234567"],
                                   blacklisted=True, blacklist_until=until, blacklist_reason="辱骂")
    for phone in ("13800000010", "13800000009", "13800000099"):
        ours = rows.first_by(Citizen, "phone", phone)
        theirs = Citizen.objects.filter(phone=phone).order_by("pk").first()
        if theirs is None:
            assert ours is None
            continue
        assert ours is not None and ours.pk == theirs.pk
        assert {f.attname: getattr(ours, f.attname) for f in Citizen._meta.concrete_fields} == \
            {f.attname: getattr(theirs, f.attname) for f in Citizen._meta.concrete_fields}
    found = rows.first_by(Citizen, "phone", "13800000010")
    assert found.pk == older.pk and found.blacklist_until == until and found.tags == ["VIP", "老年人"]
    assert not found._state.adding


def test_a_prepared_insert_fills_in_its_late_fields_when_it_runs(people: People) -> None:
    # The registration builds its INSERTs before the write transaction; the ticket's
    # number and the events' ticket exist only inside it (lib.rows.Insert's ``late``).
    ticket = _ticket(people, "", "DDDD5555")
    ticket_insert = rows.Insert([ticket], late=("number",))
    event = TicketEvent(ticket=ticket, at=ticket.created_at, kind="create", actor=people.call_taker, actor_name="calltaker",
                        from_status="draft", to_status="registered")
    event_insert = rows.Insert([event], late=("ticket",))
    with pytest.raises(ValueError):
        event_insert.run()  # its ticket is not saved yet: refused, as Django's save refuses
    ticket.number = "2026120100009"
    ticket_insert.run()
    event_insert.run()
    assert Ticket.objects.get(pk=ticket.pk).number == "2026120100009"
    assert TicketEvent.objects.get(pk=event.pk).ticket_id == ticket.pk == event.ticket_id
    theirs = TicketEvent(ticket=ticket, at=ticket.created_at, kind="create", actor=people.call_taker, actor_name="calltaker",
                         from_status="draft", to_status="registered")
    theirs.save()
    assert _raw_row(TicketEvent, event.pk, {"id"}) == _raw_row(TicketEvent, theirs.pk, {"id"})
