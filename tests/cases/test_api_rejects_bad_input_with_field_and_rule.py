"""Every invalid request gets a 4xx JSON answer naming the field and the rule; an
illegal transition names the current state and the allowed actions; nothing is
half-written."""

from __future__ import annotations

from hotline.audit.models import AuditEntry
from hotline.cases import actions
from hotline.cases.models import Ticket, TicketEvent
from tests.conftest import Api, People, Tree, ticket_input


def fields(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {e["field"]: e["rule"] for e in response.json_body["errors"]}


def test_missing_and_malformed_fields_are_named(people: People, api_as: type[Api]) -> None:
    api = api_as(people.call_taker)
    r = api.post("/tickets", ticket_input(summary="", contact_phone="12ab", source="pigeon", category="nope"))
    assert r.status_code == 422
    assert fields(r) == {"summary": "required", "contact_phone": "phone_format", "source": "exists", "category": "exists"}
    assert Ticket.objects.count() == 0


def test_schema_errors_are_422_with_the_field(people: People, api_as: type[Api]) -> None:
    api = api_as(people.call_taker)
    data = ticket_input()
    del data["content"]
    data["urgency"] = "whenever"
    r = api.post("/tickets", data)
    assert r.status_code == 422
    got = fields(r)
    assert "content" in got and got["content"] == "missing"
    assert "urgency" in got


def test_non_json_body_is_a_4xx_not_a_crash(people: People, api_as: type[Api]) -> None:
    api = api_as(people.call_taker)
    r = api.client.post("/api/tickets", "not json{", content_type="application/json", headers=api.headers)
    assert 400 <= r.status_code < 500


def test_out_of_range_coordinates_and_bad_id_numbers(people: People, api_as: type[Api]) -> None:
    r = api_as(people.call_taker).post("/tickets", ticket_input(longitude=200, latitude=-91, id_number="12345"))
    assert fields(r) == {"longitude": "range", "latitude": "range", "id_number": "id_number_format"}


def test_an_illegal_transition_names_state_and_allowed_actions(people: People, tree: Tree, api_as: type[Api]) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input())
    r = api_as(people.call_taker).post(f"/tickets/{ticket.pk}/close")
    assert r.status_code == 409
    body = r.json_body
    assert body["current_state"] == "registered"
    assert "dispatch" in body["allowed_actions"]
    assert "close" not in body["allowed_actions"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="close").count() == 0


def test_a_wrong_role_is_403(people: People, tree: Tree, api_as: type[Api]) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input())
    assert api_as(people.statistician).post(f"/tickets/{ticket.pk}/dispatch", {"lead_department": tree.donghua.pk}).status_code == 403
    assert api_as(people.statistician).post("/tickets", ticket_input()).status_code == 403


def test_reasons_are_required_where_the_rules_say_so(people: People, tree: Tree, api_as: type[Api]) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input())
    actions.do_dispatch(ticket.pk, people.dispatcher, tree.donghua.pk)
    r = api_as(people.handler).post(f"/tickets/{ticket.pk}/return", {"reason": "   "})
    assert r.status_code == 422
    assert fields(r) == {"comment": "required"}
    r = api_as(people.handler).post(f"/tickets/{ticket.pk}/return", {})
    assert r.status_code == 422 and "reason" in fields(r)


def test_dispatch_to_an_unknown_or_same_department_is_refused(people: People, tree: Tree, api_as: type[Api]) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input())
    api = api_as(people.dispatcher)
    assert fields(api.post(f"/tickets/{ticket.pk}/dispatch", {"lead_department": 999999})) == {"lead_department": "exists"}
    r = api.post(f"/tickets/{ticket.pk}/dispatch", {"lead_department": tree.donghua.pk, "assisting_departments": [tree.donghua.pk]})
    assert fields(r) == {"assisting_departments": "distinct_from_lead"}
    ticket.refresh_from_db()
    assert ticket.status == "registered" and ticket.lead_department is None


def test_a_failed_action_leaves_no_event_and_no_audit_row(people: People, tree: Tree) -> None:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input())
    events, audits = TicketEvent.objects.count(), AuditEntry.objects.count()
    try:
        actions.do_dispatch(ticket.pk, people.dispatcher, tree.donghua.pk, [tree.donghua.pk])
    except Exception:
        pass
    assert (TicketEvent.objects.count(), AuditEntry.objects.count()) == (events, audits)


def test_list_filters_are_validated(people: People, api_as: type[Api]) -> None:
    api = api_as(people.dispatcher)
    assert fields(api.get("/tickets", {"status": "flying"})) == {"status": "choice"}
    assert fields(api.get("/tickets", {"colour": "purple"})) == {"colour": "choice"}
    assert fields(api.get("/tickets", {"sort": "password"})) == {"sort": "choice"}
    assert fields(api.get("/tickets", {"page_size": 100000})) == {"page_size": "range"}
    assert fields(api.get("/tickets", {"created_from": "yesterday"})) == {"created_from": "datetime_from_date_parsing"}


def test_unauthenticated_requests_are_401(db: object) -> None:
    assert Api(None).get("/tickets").status_code == 401
    assert Api(None).post("/tickets", ticket_input()).status_code == 401


def test_attachments_are_checked_for_type_and_size(people: People, api_as: type[Api], settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    ticket = actions.do_create_ticket(people.call_taker, ticket_input())
    api = api_as(people.call_taker)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    ok = api.client.post(f"/api/tickets/{ticket.pk}/attachments", {"file": SimpleUploadedFile("现场.png", png, "image/png")}, headers=api.headers)
    assert ok.status_code == 201, ok.content
    fake = api.client.post(f"/api/tickets/{ticket.pk}/attachments", {"file": SimpleUploadedFile("x.png", b"MZ\x90\x00evil", "image/png")}, headers=api.headers)
    assert fake.status_code == 422 and fake.json()["errors"][0]["rule"] == "content_matches_type"
    exe = api.client.post(f"/api/tickets/{ticket.pk}/attachments", {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00", "application/x-msdownload")}, headers=api.headers)
    assert exe.json()["errors"][0]["rule"] == "allowed_type"
    settings.HOTLINE_ATTACHMENT_MAX_BYTES = 50
    big = api.client.post(f"/api/tickets/{ticket.pk}/attachments", {"file": SimpleUploadedFile("b.png", png, "image/png")}, headers=api.headers)
    assert big.json()["errors"][0]["rule"] == "max_size"
    download = api.client.get(f"/api/tickets/{ticket.pk}/attachments/{ok.json()['id']}", headers=api.headers)
    assert b"".join(download.streaming_content) == png


def test_a_failed_attachment_leaves_no_file_behind(people: People, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Fault injection: the audit write fails after the file was stored (a stand-in for
    any database error inside the transaction); the file must be removed again."""
    import pytest

    from hotline.audit import actions as audit_actions

    ticket = actions.do_create_ticket(people.call_taker, ticket_input())

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(audit_actions, "record", broken)
    with pytest.raises(RuntimeError):
        actions.do_attach(ticket.pk, people.call_taker, "a.pdf", "application/pdf", b"%PDF-1.4 test")
    media = settings.MEDIA_ROOT
    leftovers = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    assert leftovers == []
    assert not ticket.attachments.exists()
