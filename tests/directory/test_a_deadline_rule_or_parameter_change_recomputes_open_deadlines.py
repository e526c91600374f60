"""Changing a deadline rule, deleting it, or changing ``warn_share``/``deadline_time``
re-derives the deadlines of open tickets at once (one ``deadline_changed`` event per
moved ticket); tickets of other types stay as they were."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hotline.cases import actions as case_actions
from hotline.cases.models import Ticket
from hotline.directory.models import DeadlineRule
from tests.conftest import MONDAY, People, Tree, ticket_input


def dispatched_complaint(people: People, tree: Tree) -> Ticket:
    ticket = case_actions.do_create_ticket(people.call_taker, ticket_input(service_type="complaint"), now=MONDAY)
    return case_actions.do_dispatch(ticket.pk, people.dispatcher, tree.donghua.pk, now=MONDAY)


def local(value: dt.datetime | None) -> dt.datetime:
    assert value is not None
    return timezone.localtime(value)


def test_changing_the_complaint_rule_moves_open_complaints_only(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    open_one = dispatched_complaint(people, tree)
    consult = case_actions.do_create_ticket(people.call_taker, ticket_input(service_type="consult"), now=MONDAY)
    consult = case_actions.do_dispatch(consult.pk, people.dispatcher, tree.donghua.pk, now=MONDAY)
    # 15 working days after Monday 2026-11-23: Monday 2026-12-14.
    assert local(open_one.deadline).date() == dt.date(2026, 12, 14)
    consult_deadline = consult.deadline

    rule = DeadlineRule.objects.get(service_type__code="complaint", category__isnull=True)
    r = api_as(people.admin).patch(f"/directory/deadline-rules/{rule.pk}", {"handle_days": 10})
    assert r.status_code == 200, r.json_body
    assert r.json_body["handle_days"] == 10 and r.json_body["recompute"] == {"mode": "inline", "changed": 1}

    open_one.refresh_from_db()
    assert local(open_one.deadline).date() == dt.date(2026, 12, 7) and open_one.deadline_days == 10
    (event,) = open_one.events.filter(kind="deadline_changed")
    assert "时限规则调整" in event.comment
    consult.refresh_from_db()
    assert consult.deadline == consult_deadline and not consult.events.filter(kind="deadline_changed").exists()

    # A rule for the ticket's own category beats the service-type rule ...
    r = api_as(people.admin).post("/directory/deadline-rules", {"category": "water.outage", "service_type": "complaint", "handle_days": 3})
    assert r.status_code == 201 and r.json_body["recompute"]["changed"] == 1
    open_one.refresh_from_db()
    assert local(open_one.deadline).date() == dt.date(2026, 11, 26)
    # ... and deleting it falls back to the complaint rule again.
    r = api_as(people.admin).delete(f"/directory/deadline-rules/{r.json_body['id']}")
    assert r.status_code == 200 and r.json()["changed"] == 1
    open_one.refresh_from_db()
    assert local(open_one.deadline).date() == dt.date(2026, 12, 7)
    assert open_one.events.filter(kind="deadline_changed").count() == 3


def test_warn_share_and_deadline_time_apply_without_restart(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    ticket = dispatched_complaint(people, tree)
    admin = api_as(people.admin)
    # Default warn_share 0.2: yellow 3 working days before the end (12 of 15 days).
    assert local(ticket.warn_at).date() == dt.date(2026, 12, 9)
    r = admin.put("/directory/parameters/warn_share", {"value": 0.5})
    assert r.status_code == 200 and r.json_body["value"] == 0.5 and r.json_body["recompute"]["changed"] == 1
    ticket.refresh_from_db()
    assert local(ticket.warn_at).date() == dt.date(2026, 12, 2)  # ceil(15 × 0.5) = 8 left: after day 7

    r = admin.put("/directory/parameters/deadline_time", {"value": "17:30"})
    assert r.status_code == 200 and r.json_body["recompute"]["changed"] == 1
    ticket.refresh_from_db()
    assert local(ticket.deadline).time() == dt.time(17, 30)

    # A parameter that does not move deadlines recomputes nothing.
    r = admin.put("/directory/parameters/reopen_days", {"value": 7})
    assert r.status_code == 200 and r.json_body["recompute"] is None

    params = {p["key"]: p for p in admin.get("/directory/parameters").json_body}
    assert params["warn_share"]["value"] == 0.5 and not params["warn_share"]["is_default"]
    assert params["auto_urge"]["is_default"] and params["auto_urge"]["value"] is True

    r = admin.delete("/directory/parameters/deadline_time")
    assert r.status_code == 200 and r.json()["value"] == "23:59" and r.json()["is_default"]
    ticket.refresh_from_db()
    assert local(ticket.deadline).time().replace(second=0) == dt.time(23, 59)
    assert ticket.events.filter(kind="deadline_changed").count() == 3
