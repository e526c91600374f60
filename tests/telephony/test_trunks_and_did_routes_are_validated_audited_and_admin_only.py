"""Trunk and DID-route administration: every bad field is refused with its field and
rule, nothing is half-written, every change is audited, only administrators may do it,
and the trunk password never enters the database (an environment variable's name)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.audit.models import AuditEntry
from hotline.telephony.models import DidRoute, Trunk

pytestmark = pytest.mark.django_db

GOOD = {"name": "telecom", "host": "sip.carrier.example.cn", "port": 5060, "transport": "udp", "username": "0571888",
        "register": True, "expires": 1800, "allowed_sources": ["203.0.113.0/24", "198.51.100.7"], "outbound_prefix": "9",
        "caller_id": "057112345"}


def test_a_trunk_is_created_changed_and_deleted_with_audit_rows(agents: Any, api_as: Any) -> None:
    api = api_as(agents.admin)
    r = api.post("/telephony/trunks", GOOD)
    assert r.status_code == 201, r.json_body
    body = r.json_body
    assert body["password_env"] == "HOTLINE_TRUNK_TELECOM_PASSWORD" and body["password_set"] is False
    assert body["allowed_sources"] == ["203.0.113.0/24", "198.51.100.7/32"] and body["register"] is True
    tid = body["id"]
    r = api.patch(f"/telephony/trunks/{tid}", {"port": 5080, "register": False})
    assert r.status_code == 200 and r.json_body["port"] == 5080 and r.json_body["register"] is False
    route = api.post("/telephony/did-routes", {"trunk": "telecom", "did": "057112345", "extension": "1001"})
    assert route.status_code == 201, route.json_body
    assert api.get(f"/telephony/trunks/{tid}").json_body["did_routes"] == [route.json_body]
    assert api.patch(f"/telephony/did-routes/{route.json_body['id']}", {"extension": "1003"}).json_body["extension"] == "1003"
    assert api.delete(f"/telephony/trunks/{tid}").status_code == 204
    assert not Trunk.objects.exists() and not DidRoute.objects.exists()
    actions = list(AuditEntry.objects.filter(action__startswith="telephony.").values_list("action", flat=True).order_by("id"))
    assert actions == ["telephony.trunk_create", "telephony.trunk_update", "telephony.did_route_create",
                       "telephony.did_route_update", "telephony.trunk_delete"]
    update = AuditEntry.objects.get(action="telephony.trunk_update")
    assert {c["field"] for c in update.changes} == {"port", "register"}


def test_the_password_env_is_reported_set_when_the_variable_exists(agents: Any, api_as: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("HOTLINE_TRUNK_TELECOM_PASSWORD", "carrier-secret")
    r = api_as(agents.admin).post("/telephony/trunks", GOOD)
    assert r.json_body["password_set"] is True
    assert "carrier-secret" not in str(list(Trunk.objects.values())) + str(list(AuditEntry.objects.values_list("changes", flat=True)))


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": "电信 中继"}, "name", "format"),
        ({"host": ""}, "host", "required"),
        ({"host": "bad_host!.example"}, "host", "hostname"),
        ({"host": "-carrier.example"}, "host", "hostname"),
        ({"host": "10.0.0.256"}, "host", "hostname"),
        ({"port": 0}, "port", "range"),
        ({"port": 70000}, "port", "range"),
        ({"port": "5060"}, "port", "int_type"),
        ({"transport": "tls"}, "transport", "choice"),
        ({"register": True, "username": ""}, "username", "required_for_register"),
        ({"expires": 10}, "expires", "range"),
        ({"allowed_sources": ["203.0.113.0/33"]}, "allowed_sources.0", "cidr"),
        ({"allowed_sources": ["10.0.0.1", "not-an-ip"]}, "allowed_sources.1", "cidr"),
        ({"outbound_prefix": "9a"}, "outbound_prefix", "digits"),
        ({"caller_id": "0571-123"}, "caller_id", "digits"),
        ({"password_env": "lower-case"}, "password_env", "env_name"),
        ({"password_env": 5}, "password_env", "string_type"),
        ({"colour": "red"}, "colour", "unknown"),
    ],
)
def test_bad_trunk_fields_are_refused_naming_field_and_rule(agents: Any, api_as: Any, change: dict[str, Any], field: str, rule: str) -> None:
    r = api_as(agents.admin).post("/telephony/trunks", {**GOOD, **change})
    assert r.status_code == 422, r.json_body
    assert {"field": field, "rule": rule} in [{"field": e["field"], "rule": e["rule"]} for e in r.json_body["errors"]], r.json_body
    assert not Trunk.objects.exists() and not AuditEntry.objects.filter(action__startswith="telephony.").exists()


def test_names_and_outbound_prefixes_are_unique(agents: Any, api_as: Any) -> None:
    api = api_as(agents.admin)
    assert api.post("/telephony/trunks", GOOD).status_code == 201
    r = api.post("/telephony/trunks", {**GOOD, "name": "TELECOM"})
    assert [(e["field"], e["rule"]) for e in r.json_body["errors"]] == [("name", "unique"), ("outbound_prefix", "unique")]
    assert api.post("/telephony/trunks", {**GOOD, "name": "backup", "outbound_prefix": "8"}).status_code == 201
    tid = Trunk.objects.get(name="backup").pk
    r = api.patch(f"/telephony/trunks/{tid}", {"outbound_prefix": "9"})
    assert r.status_code == 422 and r.json_body["errors"][0]["rule"] == "unique"
    assert Trunk.objects.get(pk=tid).outbound_prefix == "8"


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        ({"did": "057112345", "extension": "1001"}, "trunk", "missing"),
        ({"trunk": "", "did": "057112345", "extension": "1001"}, "trunk", "required"),
        ({"trunk": "nope", "did": "057112345", "extension": "1001"}, "trunk", "exists"),
        ({"trunk": 99999, "did": "057112345", "extension": "1001"}, "trunk", "exists"),
        ({"trunk": "telecom", "did": "0571-12345", "extension": "1001"}, "did", "digits"),
        ({"trunk": "telecom", "did": "", "extension": "1001"}, "did", "required"),
        ({"trunk": "telecom", "did": "057112345", "extension": "4242"}, "extension", "exists"),
        ({"trunk": "telecom", "did": "057112345", "extension": ""}, "extension", "required"),
    ],
)
def test_bad_did_routes_are_refused_naming_field_and_rule(agents: Any, api_as: Any, data: dict[str, Any], field: str, rule: str) -> None:
    api = api_as(agents.admin)
    api.post("/telephony/trunks", GOOD)
    r = api.post("/telephony/did-routes", data)
    assert r.status_code == 422, r.json_body
    assert (field, rule) in [(e["field"], e["rule"]) for e in r.json_body["errors"]], r.json_body
    assert not DidRoute.objects.exists()


def test_a_did_is_routed_once_per_trunk(agents: Any, api_as: Any) -> None:
    api = api_as(agents.admin)
    api.post("/telephony/trunks", GOOD)
    assert api.post("/telephony/did-routes", {"trunk": "telecom", "did": "057112345", "extension": "1001"}).status_code == 201
    r = api.post("/telephony/did-routes", {"trunk": "telecom", "did": "057112345", "extension": "1003"})
    assert r.status_code == 422 and (r.json_body["errors"][0]["field"], r.json_body["errors"][0]["rule"]) == ("did", "unique")
    assert api.delete("/telephony/did-routes/99999").status_code == 404
    assert api.patch("/telephony/trunks/99999", {"port": 5061}).status_code == 404


@pytest.mark.parametrize("role", ["call_taker", "team_leader", "dispatcher", "supervisor", "inspector", "statistician", "auditor", "handler"])
def test_only_administrators_see_and_change_trunks(agents: Any, api_as: Any, role: str) -> None:
    trunk = api_as(agents.admin).post("/telephony/trunks", GOOD).json_body
    api = api_as(getattr(agents, role))
    assert api.get("/telephony/trunks").status_code == 403
    assert api.get(f"/telephony/trunks/{trunk['id']}").status_code == 403
    assert api.post("/telephony/trunks", {**GOOD, "name": "x", "outbound_prefix": ""}).status_code == 403
    assert api.patch(f"/telephony/trunks/{trunk['id']}", {"port": 5061}).status_code == 403
    assert api.delete(f"/telephony/trunks/{trunk['id']}").status_code == 403
    assert api.get("/telephony/did-routes").status_code == 403
    assert api.post("/telephony/did-routes", {"trunk": "telecom", "did": "1", "extension": "1001"}).status_code == 403
    assert Trunk.objects.get().port == 5060 and Trunk.objects.count() == 1
