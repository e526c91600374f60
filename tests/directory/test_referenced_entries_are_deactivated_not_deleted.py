"""DELETE removes an entry nothing refers to; an entry that tickets, users, rules or
child entries refer to is deactivated instead (with its subtree), so history keeps
its names — and a deactivated entry is no longer offered for new tickets."""

from __future__ import annotations

from hotline.cases import actions as case_actions
from hotline.directory.models import Category, DeadlineRule, Department, ServiceType, Source
from tests.conftest import MONDAY, People, Tree, ticket_input


def test_a_department_with_tickets_is_deactivated_with_its_subtree(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    ticket = case_actions.do_create_ticket(people.call_taker, ticket_input(), now=MONDAY)
    case_actions.do_dispatch(ticket.pk, people.dispatcher, tree.dongcheng.pk, now=MONDAY)
    admin = api_as(people.admin)
    r = admin.delete(f"/directory/departments/{tree.dongcheng.pk}")
    body = r.json()
    assert r.status_code == 200 and body["deleted"] is False
    assert set(body["deactivated"]) == {tree.dongcheng.pk, tree.donghua.pk, tree.donghua_community.pk}
    assert "cases.ticket" in body["referenced_by"]
    assert not Department.objects.filter(path__startswith=tree.dongcheng.path, active=True).exists()
    assert "dongcheng" not in {d["code"] for d in admin.get("/directory/departments").json_body}
    assert "dongcheng" in {d["code"] for d in admin.get("/directory/departments", {"include_inactive": True}).json_body}
    # Dispatching to a deactivated department is refused.
    other = case_actions.do_create_ticket(people.call_taker, ticket_input(), now=MONDAY)
    r = api_as(people.dispatcher).post(f"/tickets/{other.pk}/dispatch", {"lead_department": tree.donghua.pk})
    assert r.status_code == 422


def test_an_unused_department_is_deleted(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    admin = api_as(people.admin)
    new = admin.post("/directory/departments", {"code": "bj-tax", "name": "市税务局", "kind": "bureau", "parent": "city",
                                                 "duty": "税收征管", "phone": "12366"}).json_body
    assert new["path"] == f"{tree.city.path}{new['id']:06d}." and new["depth"] == 1
    r = admin.delete(f"/directory/departments/{new['id']}")
    assert r.json() == {"deleted": True, "deactivated": [], "referenced_by": []}
    assert not Department.objects.filter(code="bj-tax").exists()


def test_a_service_type_in_use_is_deactivated_and_refused_for_new_tickets(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    case_actions.do_create_ticket(people.call_taker, ticket_input(service_type="praise"), now=MONDAY)
    praise = ServiceType.objects.get(code="praise")
    r = api_as(people.admin).delete(f"/directory/service-types/{praise.pk}")
    assert r.json()["deleted"] is False
    praise.refresh_from_db()
    assert praise.active is False
    r = api_as(people.call_taker).post("/tickets", ticket_input(service_type="praise"))
    assert r.status_code == 422 and ("service_type", "exists") in {(e["field"], e["rule"]) for e in r.json_body["errors"]}


def test_a_category_with_a_deadline_rule_keeps_its_rule(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    admin = api_as(people.admin)
    assert admin.post("/directory/deadline-rules", {"category": "gas.leak", "handle_days": 2}).status_code == 201
    leak = Category.objects.get(code="gas.leak")
    r = admin.delete(f"/directory/categories/{leak.pk}")
    assert r.json()["deleted"] is False and r.json()["referenced_by"] == ["directory.deadlinerule"]
    assert DeadlineRule.objects.filter(category=leak).exists()
    # A top-level category takes its sub-categories along.
    gas = Category.objects.get(code="gas")
    assert set(admin.delete(f"/directory/categories/{gas.pk}").json()["deactivated"]) == {gas.pk} | set(
        Category.objects.filter(parent=gas).exclude(pk=leak.pk).values_list("pk", flat=True))
    tree_codes = {c["code"] for c in admin.get("/directory/categories/tree").json_body}
    assert "gas" not in tree_codes and "water" in tree_codes


def test_an_unused_source_is_deleted_and_flat_entries_round_trip(people: People, api_as) -> None:  # type: ignore[no-untyped-def]
    admin = api_as(people.admin)
    created = admin.post("/directory/sources", {"code": "app", "name": "政务App", "sort": 20})
    assert created.status_code == 201
    sid = created.json_body["id"]
    assert admin.patch(f"/directory/sources/{sid}", {"name": "滨江通App"}).json_body["name"] == "滨江通App"
    assert "app" in {s["code"] for s in api_as(people.handler).get("/directory/sources").json_body}
    assert admin.delete(f"/directory/sources/{sid}").json()["deleted"] is True
    assert not Source.objects.filter(code="app").exists()
    district = admin.post("/directory/districts", {"code": "330102", "name": "东城区", "department": "dongcheng"}).json_body
    assert district["department_id"] is not None
