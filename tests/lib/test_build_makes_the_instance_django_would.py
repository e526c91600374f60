"""``lib.rows.build(model, **values)`` (the registration path's instances) gives what
``model(**values)`` gives: every concrete field's value, defaults included, a new
unsaved state, related objects cached; a model someone listens to at ``post_init``
still goes through ``Model.__init__``; an unknown name is refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models.signals import post_init
from django.utils import timezone

from hotline.audit.models import AuditEntry
from hotline.cases.models import Ticket, TicketEvent, Urgency
from hotline.directory.models import Citizen, ServiceType, Source
from hotline.lib import rows
from tests.conftest import People

pytestmark = pytest.mark.django_db


def _same(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    for f in type(a)._meta.concrete_fields:
        assert getattr(a, f.attname) == getattr(b, f.attname), f.attname
        if f.is_relation and f.is_cached(a):
            assert f.is_cached(b) and f.get_cached_value(b) is f.get_cached_value(a), f.name
        elif f.is_relation:
            assert not f.is_cached(b), f.name
    assert (b._state.adding, b._state.db) == (a._state.adding, a._state.db)
    assert b._state.adding
    assert b.pk is None


def test_build_equals_the_keyword_constructor_for_the_registration_models(people: People) -> None:
    when = timezone.make_aware(dt.datetime(2026, 12, 1, 9, 30, 15, 123456))
    ticket_values = dict(
        query_code="ABCD2345", status="registered", citizen_name="王先生", contact_phone="13800000000",
        source=Source.objects.get(code="phone"), service_type=ServiceType.objects.get(code="complaint"),
        summary="停水", content="小区停水。", urgency=Urgency.URGENT, longitude=Decimal("120.123456"),
        registered_by=people.call_taker, created_at=when, registered_at=when, confidential=True,
    )
    _same(Ticket(**ticket_values), rows.build(Ticket, **ticket_values))
    _same(Ticket(), rows.build(Ticket))  # every default

    saved = Citizen.objects.create(phone="13900000000", name="李女士")
    unsaved = Ticket(**ticket_values)
    for ticket in (unsaved, Ticket.objects.create(number="2026120100001", **ticket_values)):
        event_values = dict(ticket=ticket, at=when, kind="create", actor=people.call_taker, actor_name="call_taker",
                            actor_department_id=None, from_status="", to_status="registered", comment="", data={"a": [1]})
        built = rows.build(TicketEvent, **event_values)
        _same(TicketEvent(**event_values), built)
        assert built.ticket is ticket and built.ticket_id == ticket.pk
    _same(AuditEntry(at=when, actor=None, actor_name="system", action="x", changes=[]),
          rows.build(AuditEntry, at=when, actor=None, actor_name="system", action="x", changes=[]))
    _same(Citizen(phone="13700000000", name="张"), rows.build(Citizen, phone="13700000000", name="张"))
    _same(Ticket(citizen_id=saved.pk), rows.build(Ticket, citizen_id=saved.pk))  # by attname


def test_a_model_with_post_init_listeners_is_built_through_its_init(people: People) -> None:
    seen: list[Any] = []

    def listener(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    rows._builds.pop(Citizen, None)
    post_init.connect(listener, sender=Citizen)
    try:
        citizen = rows.build(Citizen, phone="13600000000")
        assert seen == [citizen] and citizen.phone == "13600000000"
    finally:
        post_init.disconnect(listener, sender=Citizen)
        rows._builds.pop(Citizen, None)
    rows.build(Citizen, phone="13600000001")
    assert seen == [citizen]  # nobody listens any more: the direct path


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError, match="nickname"):
        rows.build(Citizen, phone="13600000000", nickname="x")
