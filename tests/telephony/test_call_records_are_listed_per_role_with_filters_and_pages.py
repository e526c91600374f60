"""The CDR list: an agent sees their own calls, team leaders, inspectors, supervisors
and administrators see all, others none; caller numbers masked by the ticket rules;
filters (time, agent, caller, direction) and pages; bad filters are 422."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.telephony.conftest import T0, make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(agents: Any) -> Any:
    make_call("c1", agent=agents.call_taker, caller="13800000001", minutes=0)
    make_call("c2", agent=agents.call_taker, caller="13800000002", minutes=10)
    make_call("c3", agent=agents.other_taker, caller="13800000001", minutes=20)
    make_call("c4", agent=agents.other_taker, caller="1001", callee="13900000009", minutes=30, direction="outbound")
    make_call("c5", agent=None, caller="13700000000", minutes=40, recorded=False)  # abandoned in the queue
    return agents


def ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.json_body
    return [c["call_id"] for c in r.json_body["items"]]


def test_each_role_sees_the_calls_it_may(calls: Any, api_as: Any) -> None:
    assert ids(api_as(calls.call_taker).get("/telephony/calls")) == ["c2", "c1"]
    assert ids(api_as(calls.other_taker).get("/telephony/calls")) == ["c4", "c3"]
    for role in ("team_leader", "inspector", "supervisor", "admin"):
        assert ids(api_as(getattr(calls, role)).get("/telephony/calls")) == ["c5", "c4", "c3", "c2", "c1"], role
    for role in ("dispatcher", "statistician", "auditor", "handler", "manager"):
        assert api_as(getattr(calls, role)).get("/telephony/calls").status_code == 403, role
    assert api_as(None).get("/telephony/calls").status_code == 401


def test_a_call_taker_without_extension_still_sees_calls_linked_to_them(calls: Any, api_as: Any) -> None:
    calls.call_taker.extension = None
    calls.call_taker.save()
    assert api_as(calls.call_taker).get("/telephony/calls").status_code == 403


def test_caller_numbers_are_masked_for_roles_that_do_not_see_phones(calls: Any, api_as: Any) -> None:
    full = {c["call_id"]: c for c in api_as(calls.team_leader).get("/telephony/calls").json_body["items"]}
    masked = {c["call_id"]: c for c in api_as(calls.supervisor).get("/telephony/calls").json_body["items"]}
    assert full["c1"]["caller"] == "13800000001" and masked["c1"]["caller"] == "138****0001"
    assert masked["c4"]["caller"] == "1001" and masked["c4"]["callee"] == "139****0009"  # outbound: the citizen is the callee
    admin = {c["call_id"]: c for c in api_as(calls.admin).get("/telephony/calls").json_body["items"]}
    assert admin["c1"]["caller"] == "138****0001" and admin["c1"]["may_play"] is False


def test_filters_and_pages(calls: Any, api_as: Any) -> None:
    api = api_as(calls.team_leader)
    since = (T0 + dt.timedelta(minutes=10)).isoformat()
    until = (T0 + dt.timedelta(minutes=30)).isoformat()
    assert ids(api.get("/telephony/calls", {"since": since, "until": until})) == ["c3", "c2"]
    assert ids(api.get("/telephony/calls", {"agent": calls.other_taker.pk})) == ["c4", "c3"]
    assert ids(api.get("/telephony/calls", {"caller": "13800000001"})) == ["c3", "c1"]
    assert ids(api.get("/telephony/calls", {"caller": "138*"})) == ["c3", "c2", "c1"]
    assert ids(api.get("/telephony/calls", {"direction": "outbound"})) == ["c4"]
    page2 = api.get("/telephony/calls", {"page": 2, "page_size": 2})
    assert ids(page2) == ["c3", "c2"] and page2.json_body["total"] == 5 and page2.json_body["page"] == 2
    assert ids(api.get("/telephony/calls", {"page": 9, "page_size": 2})) == []
    # An agent's filters never widen what they see.
    assert ids(api_as(calls.call_taker).get("/telephony/calls", {"agent": calls.other_taker.pk})) == []


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"page": 0}, "page", "range"),
        ({"page_size": 0}, "page_size", "range"),
        ({"page_size": 201}, "page_size", "range"),
        ({"direction": "sideways"}, "direction", "choice"),
        ({"caller": "138 0000"}, "caller", "digits"),
        ({"since": "2026-11-23T10:00:00+00:00", "until": "2026-11-23T09:00:00+00:00"}, "until", "after_since"),
        ({"since": "yesterday"}, "since", "datetime_from_date_parsing"),
        ({"agent": "bob"}, "agent", "int_parsing"),
    ],
)
def test_bad_filters_are_refused_naming_field_and_rule(calls: Any, api_as: Any, params: dict[str, Any], field: str, rule: str) -> None:
    r = api_as(calls.team_leader).get("/telephony/calls", params)
    assert r.status_code == 422, r.json_body
    assert (field, rule) in [(e["field"], e["rule"]) for e in r.json_body["errors"]], r.json_body
