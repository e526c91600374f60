"""The audit log records who changed what from where; it cannot be edited through
the application; only auditors can search it."""

from __future__ import annotations

import pytest

from hotline.audit.models import AuditEntry
from hotline.cases import actions
from tests.conftest import Api, People, Tree, ticket_input


def test_rows_cannot_be_changed_or_deleted(people: People) -> None:
    row = AuditEntry.objects.first()
    assert row is not None
    row.action = "forged"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()


def test_timeline_events_cannot_be_changed(people: People, tree: Tree) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    event = t.events.first()
    event.comment = "rewritten"
    with pytest.raises(PermissionError):
        event.save()


def test_auditors_search_by_actor_action_and_object(people: People, tree: Tree, api_as: type[Api]) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    api_as(people.dispatcher).post(f"/tickets/{t.pk}/dispatch", {"lead_department": "donghua"})
    auditor = api_as(people.auditor)
    body = auditor.get("/audit", {"actor": "dispatcher", "action": "ticket."}).json_body
    assert body["count"] == 1
    entry = body["items"][0]
    assert entry["action"] == "ticket.dispatch" and entry["ip"] == "10.1.2.3"
    assert entry["object_repr"] == t.number
    assert any(c["field"] == "status" and c["new"] == "dispatched" for c in entry["changes"])
    by_object = auditor.get("/audit", {"object_type": "cases.ticket", "object_id": str(t.pk)}).json_body
    assert by_object["count"] == 2


def test_other_roles_cannot_read_the_audit_log(people: People, api_as: type[Api]) -> None:
    for user in (people.admin, people.team_leader, people.supervisor):
        assert api_as(user).get("/audit").status_code == 403


def test_there_is_no_write_endpoint_for_the_audit_log(people: People, api_as: type[Api]) -> None:
    auditor = api_as(people.auditor)
    assert auditor.post("/audit", {"action": "x"}).status_code == 405
    assert auditor.delete("/audit").status_code == 405
