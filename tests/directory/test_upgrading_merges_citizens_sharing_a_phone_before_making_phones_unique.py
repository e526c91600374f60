"""A database of an older version may hold several citizens with one phone. Migration
directory 0004 keeps the oldest, moves every ticket of the others to it, fills its
empty fields, unites other phones and tags, keeps the strongest blacklist, deletes the
others, audits each merge, and only then makes the phone unique."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from hotline.audit.models import AuditEntry
from hotline.cases import actions
from hotline.cases.models import Ticket
from hotline.directory.models import Citizen
from tests.conftest import People, ticket_input

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("directory", "0003_deadline_rule_constraints")
UTC = dt.timezone.utc


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.fixture
def old_schema(people: People) -> Iterator[Any]:
    """The database as of directory 0003 (no constraint); migrated forward afterwards
    whatever the test did."""
    executor = _executor()
    executor.migrate([BEFORE])
    try:
        graph = _executor().loader.graph
        yield _executor().loader.project_state([BEFORE, *(n for n in graph.leaf_nodes() if n[0] != BEFORE[0])]).apps
    finally:
        executor = _executor()
        executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate_forward() -> None:
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_duplicates_are_merged_into_the_oldest_and_the_phone_becomes_unique(people: People, old_schema: Any) -> None:
    OldCitizen = old_schema.get_model("directory", "Citizen")
    OldTicket = old_schema.get_model("cases", "Ticket")
    # The oldest citizen, written as the old schema stores it (registration's insert now
    # relies on the unique phone this schema lacks); registrations then find it.
    OldCitizen.objects.create(phone="13800000001", name="")
    first = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13800000001", citizen_name=""))
    kept = Citizen.objects.get(phone="13800000001")
    kept.tags, kept.other_phones = ["VIP"], ["057188880000"]
    kept.blacklisted, kept.blacklist_until, kept.blacklist_reason = True, dt.datetime(2030, 1, 1, tzinfo=UTC), "骚扰"
    kept.save()
    later = OldCitizen.objects.create(phone="13800000001", name="周女士", id_number="11010519491231002X",
                                      tags=["VIP", "老年人"], other_phones=["13800000001", "057199990000"])
    latest = OldCitizen.objects.create(phone="13800000001", name="别人", address="东华路1号", blacklisted=True,
                                       blacklist_until=None, blacklist_reason="辱骂话务员", other_phones=["057188880000"])
    moved = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13800000001", citizen_name=""))
    OldTicket.objects.filter(pk=moved.pk).update(citizen_id=latest.pk)
    # a second pair, and a citizen on their own who must stay as they are
    pair_a = OldCitizen.objects.create(phone="13900000002", name="甲")
    pair_b = OldCitizen.objects.create(phone="13900000002", name="乙", blacklisted=True,
                                       blacklist_until=dt.datetime(2029, 1, 1, tzinfo=UTC), blacklist_reason="甲因")
    alone = OldCitizen.objects.create(phone="13700000003", name="丙")

    _migrate_forward()

    assert Citizen.objects.filter(phone="13800000001").count() == 1
    merged = Citizen.objects.get(phone="13800000001")
    assert merged.pk == kept.pk
    assert merged.name == "周女士" and merged.id_number == "11010519491231002X" and merged.address == "东华路1号"
    assert merged.tags == ["VIP", "老年人"]
    assert merged.other_phones == ["057188880000", "057199990000"]  # the main phone is not an "other" one
    assert merged.blacklisted and merged.blacklist_until is None and merged.blacklist_reason == "辱骂话务员"
    assert set(Ticket.objects.filter(pk__in=[first.pk, moved.pk]).values_list("citizen_id", flat=True)) == {kept.pk}
    assert not Citizen.objects.filter(pk__in=[later.pk, latest.pk, pair_b.pk]).exists()

    pair = Citizen.objects.get(phone="13900000002")
    assert pair.pk == pair_a.pk and pair.name == "甲"
    assert pair.blacklisted and pair.blacklist_until == dt.datetime(2029, 1, 1, tzinfo=UTC) and pair.blacklist_reason == "甲因"
    assert Citizen.objects.get(pk=alone.pk).name == "丙"

    entry = AuditEntry.objects.get(action="citizen.merge", object_id=str(kept.pk))
    assert entry.actor_id is None and entry.actor_name == "system" and entry.object_type == "directory.citizen"
    changes = {c["field"]: c for c in entry.changes}
    assert [c["id"] for c in changes["merged_citizens"]["old"]] == [later.pk, latest.pk]
    assert changes["merged_citizens"]["old"][1]["name"] == "别人"  # the removed records stay readable
    assert changes["cases.ticket.citizen"]["new"] == 1
    assert changes["name"] == {"field": "name", "old": "", "new": "周女士"}
    assert AuditEntry.objects.filter(action="citizen.merge").count() == 2
    assert not AuditEntry.objects.filter(action="citizen.merge", object_id=str(alone.pk)).exists()

    with pytest.raises(IntegrityError), transaction.atomic():
        Citizen.objects.create(phone="13700000003")


def test_a_database_without_duplicates_migrates_without_audit_rows(people: People, old_schema: Any) -> None:
    OldCitizen = old_schema.get_model("directory", "Citizen")
    OldCitizen.objects.create(phone="13600000001", name="丁")
    _migrate_forward()
    assert Citizen.objects.get(phone="13600000001").name == "丁"
    assert not AuditEntry.objects.filter(action="citizen.merge").exists()
