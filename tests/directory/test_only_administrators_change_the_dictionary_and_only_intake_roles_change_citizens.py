"""Every dictionary write (departments, categories, service types, sources, districts,
deadline rules, holidays, parameters) is refused with 403 for every role but the
system administrator; citizens' records and the blacklist are written by the intake
roles only. A refused request changes nothing and writes no audit row."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.audit.models import AuditEntry
from hotline.directory import actions
from hotline.directory.models import Category, Citizen, DeadlineRule, Department, HolidayOverride, Parameter, ServiceType
from tests.conftest import People, Tree

NON_ADMINS = ["call_taker", "team_leader", "dispatcher", "supervisor", "inspector", "statistician", "auditor", "handler", "manager"]


def dictionary_writes(tree: Tree) -> list[tuple[str, str, dict[str, Any] | None]]:
    complaint = ServiceType.objects.get(code="complaint")
    rule = DeadlineRule.objects.get(service_type=complaint, category__isnull=True)
    water = Category.objects.get(code="water")
    return [
        ("post", "/directory/departments", {"code": "new", "name": "新部门", "kind": "bureau", "parent": "city"}),
        ("patch", f"/directory/departments/{tree.donghua.pk}", {"parent": "xicheng"}),
        ("patch", f"/directory/departments/{tree.water.pk}", {"phone": "12345"}),
        ("delete", f"/directory/departments/{tree.donghua_community.pk}", None),
        ("post", "/directory/categories", {"code": "pets", "name": "宠物管理"}),
        ("patch", f"/directory/categories/{water.pk}", {"name": "水务"}),
        ("delete", f"/directory/categories/{water.pk}", None),
        ("post", "/directory/service-types", {"code": "x", "name": "新类型"}),
        ("patch", f"/directory/service-types/{complaint.pk}", {"name": "投诉2"}),
        ("delete", f"/directory/service-types/{complaint.pk}", None),
        ("post", "/directory/sources", {"code": "app", "name": "App"}),
        ("post", "/directory/districts", {"code": "330102", "name": "东城区"}),
        ("post", "/directory/deadline-rules", {"category": "water", "handle_days": 3}),
        ("patch", f"/directory/deadline-rules/{rule.pk}", {"handle_days": 10}),
        ("delete", f"/directory/deadline-rules/{rule.pk}", None),
        ("put", "/directory/holidays/2027-01-01", {"is_workday": False, "name": "元旦"}),
        ("post", "/directory/holidays/import", {"text": "2027-01-01,休,元旦"}),
        ("put", "/directory/parameters/warn_share", {"value": 0.3}),
        ("delete", "/directory/parameters/warn_share", None),
    ]


def _send(client: Any, method: str, path: str, body: dict[str, Any] | None) -> Any:
    r = getattr(client, method)(path) if body is None else getattr(client, method)(path, body)
    r.json_body = r.json()  # conftest's Api.delete returns the plain response
    return r


def _state() -> tuple[Any, ...]:
    return (
        list(Department.objects.values_list("pk", "path", "phone", "active")),
        list(Category.objects.values_list("pk", "name", "active")),
        list(ServiceType.objects.values_list("pk", "name", "active")),
        list(DeadlineRule.objects.values_list("pk", "handle_days")),
        HolidayOverride.objects.count(),
        Parameter.objects.count(),
    )


@pytest.mark.parametrize("role", NON_ADMINS)
def test_every_dictionary_write_is_refused_for_non_administrators(role: str, people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    client = api_as(getattr(people, role))
    before, audits = _state(), AuditEntry.objects.count()
    for method, path, body in dictionary_writes(tree):
        r = _send(client, method, path, body)
        assert r.status_code == 403, (method, path, r.status_code, r.json_body)
        assert "administrator" in r.json_body["detail"]
    assert _state() == before
    assert AuditEntry.objects.count() == audits


def test_the_administrator_may_do_each_of_those_writes(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    client = api_as(people.admin)
    for method, path, body in dictionary_writes(tree):
        r = _send(client, method, path, body)
        assert r.status_code in (200, 201), (method, path, r.status_code, r.json_body)


@pytest.mark.parametrize("role", ["admin", "supervisor", "inspector", "statistician", "auditor", "handler", "manager"])
def test_citizen_writes_are_refused_outside_the_intake_roles(role: str, people: People, api_as) -> None:  # type: ignore[no-untyped-def]
    citizen = actions.do_create_citizen(people.call_taker, {"phone": "13900001111", "name": "李女士"})
    client = api_as(getattr(people, role))
    for method, path, body in [
        ("post", "/directory/citizens", {"phone": "13900002222"}),
        ("patch", f"/directory/citizens/{citizen.pk}", {"tags": ["VIP"]}),
        ("post", f"/directory/citizens/{citizen.pk}/blacklist", {"preset": "permanent", "reason": "骚扰"}),
        ("post", f"/directory/citizens/{citizen.pk}/unblacklist", None),
    ]:
        r = _send(client, method, path, body)
        assert r.status_code == 403, (role, method, path, r.status_code, r.json_body)
    citizen.refresh_from_db()
    assert citizen.tags == [] and not citizen.blacklisted
    assert Citizen.objects.count() == 1


@pytest.mark.parametrize("role", ["call_taker", "team_leader", "dispatcher"])
def test_intake_roles_keep_citizens_and_the_blacklist(role: str, people: People, api_as) -> None:  # type: ignore[no-untyped-def]
    client = api_as(getattr(people, role))
    r = client.post("/directory/citizens", {"phone": "13900003333", "name": "赵先生", "tags": ["VIP"]})
    assert r.status_code == 201, r.json_body
    cid = r.json_body["id"]
    assert client.patch(f"/directory/citizens/{cid}", {"address": "西城区人民路1号"}).status_code == 200
    assert client.post(f"/directory/citizens/{cid}/blacklist", {"preset": "30min", "reason": "恶意骚扰"}).json_body["blacklisted"] is True
    assert client.post(f"/directory/citizens/{cid}/unblacklist").json_body["blacklisted"] is False


def test_anonymous_requests_get_401(db: None, api_as) -> None:  # type: ignore[no-untyped-def]
    client = api_as(None)
    assert client.get("/directory/departments/tree").status_code == 401
    assert client.post("/directory/holidays/import", {"text": "2027-01-01,休,元旦"}).status_code == 401
