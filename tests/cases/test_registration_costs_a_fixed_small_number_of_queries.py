"""Registering a ticket through the API costs a fixed, small number of queries.

The registration path is the hot path of the hotline (benchmark target ≥ 300 per
second): these tests fail when a change adds a query to it. With warm per-process
caches (token, dictionary: ``cases.cache``) a registration by a known citizen is:
citizen look-up, ticket-number upsert, ticket INSERT, one INSERT for both timeline
events, audit INSERT (plus BEGIN/COMMIT on SQLite). Without caches (inside a
transaction, as in ordinary tests) the token and the four dictionary entries are read
from the database.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hotline.accounts import actions as account_actions
from hotline.cases import cache
from hotline.cases.api import TicketOut
from hotline.cases.models import Ticket

BODY = {
    "citizen_name": "王先生", "contact_phone": "13800138000", "source": "phone", "service_type": "complaint",
    "category": "water", "district": "dongcheng", "address": "东城区解放路1号", "summary": "小区停水", "content": "小区从早上开始停水。",
}


def _post(client: Client, token: str, body: dict[str, Any]) -> Any:
    return client.post("/api/tickets", json.dumps(body), content_type="application/json", headers={"Authorization": f"Bearer {token}"})


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    """The SQL statements, without transaction control (BEGIN/COMMIT/SAVEPOINT)."""
    skip = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(skip)]


@pytest.mark.django_db
def test_without_caches_a_registration_reads_token_and_dictionary_and_writes_five_rows(people: Any, settings: Any) -> None:
    from hotline.directory.models import District

    District.objects.get_or_create(code="dongcheng", defaults={"name": "东城区"})
    raw, _ = account_actions.do_issue_token(people.call_taker)
    client = Client()
    assert _post(client, raw, BODY).status_code == 201  # the citizen exists from now on
    with CaptureQueriesContext(connection) as ctx:
        r = _post(client, raw, {**BODY, "summary": "又停水了"})
    assert r.status_code == 201, r.content
    sql = _statements(ctx)
    # token (1) + source, service type, category, district (4) + citizen (1)
    # + number (1) + ticket (1) + events (1) + audit (1)
    assert len(sql) == 10, "\n".join(sql)
    assert sum("INSERT INTO \"cases_ticketevent\"" in s for s in sql) == 1


@pytest.mark.django_db(transaction=True)
def test_with_warm_caches_a_registration_is_five_statements(people: Any, settings: Any) -> None:
    from hotline.directory.models import District

    District.objects.get_or_create(code="dongcheng", defaults={"name": "东城区"})
    settings.HOTLINE_CACHE_CHECK_SECONDS = 3600  # no generation check inside the measured request
    raw, _ = account_actions.do_issue_token(people.call_taker)
    client = Client()
    cache.clear()
    assert _post(client, raw, BODY).status_code == 201  # warms the caches
    with CaptureQueriesContext(connection) as ctx:
        r = _post(client, raw, {**BODY, "summary": "又停水了"})
    assert r.status_code == 201, r.content
    sql = _statements(ctx)
    # citizen look-up, number, ticket, both events, audit: nothing else
    assert len(sql) == 5, "\n".join(sql)
    assert not any("accounts_apitoken" in s or "directory_source" in s or "directory_category" in s for s in sql)
    ticket = Ticket.objects.get(number=r.json()["number"])
    kinds = list(ticket.events.order_by("at", "id").values_list("kind", "from_status", "to_status"))
    assert kinds == [("create", "draft", "draft"), ("register", "draft", "registered")]
    assert ticket.status == "registered" and ticket.version == 1 and ticket.registered_at is not None


@pytest.mark.django_db
def test_the_directly_rendered_answer_equals_the_schema_rendering(people: Any) -> None:
    """The 201 answer skips TicketOut's validation: it must be what TicketOut would give."""
    from ninja.responses import NinjaJSONEncoder

    raw, _ = account_actions.do_issue_token(people.call_taker)
    r = _post(Client(), raw, {**BODY, "district": None, "longitude": 120.1, "latitude": 30.2})
    assert r.status_code == 201, r.content
    got = r.json()
    via_schema = json.loads(json.dumps(TicketOut.model_validate(got).model_dump(), cls=NinjaJSONEncoder))
    assert got == via_schema
    assert set(got) == set(TicketOut.model_fields)
