"""Playing a ticket's recording asks "is there a ticket this user may see that was
registered from this call?" (``telephony.access.linked_tickets``) on every ticket page
with a call. That look-up must come from an index, not from reading every ticket
(95 ms at 200,000 tickets on SQLite before the index)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from hotline.cases import actions
from hotline.telephony import access
from hotline.telephony.models import CallRecord
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db


def test_the_linked_ticket_lookup_uses_the_recording_ref_index(people: Any) -> None:
    now = timezone.now()
    call = CallRecord.objects.create(call_id="a84b4c76e66710@pc33.example", direction="inbound", caller="13812341234",
                                     callee="12345", offered_at=now, ended_at=now, hangup_side="caller")
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(recording_ref=call.ref))
    for i in range(30):
        actions.do_create_ticket(people.call_taker, ticket_input(summary=f"其他诉求{i}"))
    qs = access.linked_tickets(people.call_taker, call)
    assert list(qs.values_list("pk", flat=True)) == [ticket.pk]
    sql, params = qs.values("pk").query.sql_with_params()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL enable_seqscan = off")  # a 31-row table would be read whole anyway
            cur.execute("EXPLAIN " + sql, params)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(col) for row in cur.fetchall() for col in row)
    assert "ticket_recording_ref" in plan, plan
