"""Migration cases 0007 drops the single-column indexes of five foreign keys that lead
a composite index, by name, without copying the tables (Django's SQLite AlterField
would rebuild every ticket and event); backwards it makes them again. The models and
the migrations agree."""

from __future__ import annotations

import importlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hotline.cases import actions
from hotline.cases.models import Ticket, TicketEvent
from tests.conftest import People, ticket_input

pytestmark = pytest.mark.django_db(transaction=True)

M0007 = importlib.import_module("hotline.cases.migrations.0007_drop_covered_fk_indexes")
BEFORE = ("cases", "0006_recording_ref_index")


def _migrate(target: list[tuple[str, str]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target or executor.loader.graph.leaf_nodes())


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: c["columns"] for name, c in found.items() if c["index"] and not c["primary_key"]}


def _storage(table: str) -> Any:
    """Where the table's rows live: changes when a table is copied to a new one."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        else:
            cursor.execute("SELECT relfilenode FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def test_each_covered_column_keeps_a_composite_index_and_loses_its_own(people: People) -> None:
    for table, column in M0007.COVERED:
        indexes = _indexes(table).values()
        assert [column] not in indexes, (table, column)
        assert any(cols[0] == column and len(cols) > 1 for cols in indexes), (table, column)


def test_backwards_makes_them_again_and_forwards_drops_them_with_the_rows_in_place(people: People) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input())
    events = TicketEvent.objects.filter(ticket=ticket).count()
    try:
        _migrate([BEFORE])
        for table, column in M0007.COVERED:
            assert [column] in _indexes(table).values(), (table, column)
        before = {table: _storage(table) for table, _ in M0007.COVERED}
    finally:
        _migrate()
    for table, column in M0007.COVERED:
        assert [column] not in _indexes(table).values(), (table, column)
        assert _storage(table) == before[table], f"{table} was copied"
    assert Ticket.objects.filter(pk=ticket.pk, district_id=ticket.district_id).exists()
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


def test_the_models_and_the_migrations_agree() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)  # exits 1 when a change is missing
