"""Every dictionary, calendar, parameter and citizen write through the API leaves one
audit row naming the actor, the client address, the action and field/old/new, in the
same transaction as the change (a refused write leaves none)."""

from __future__ import annotations

from typing import Any

from hotline.audit.models import AuditEntry
from hotline.directory.models import Category, DeadlineRule, ServiceType
from tests.conftest import People, Tree

ADDRESS = "10.1.2.3"  # conftest's Api client


def last_entry() -> AuditEntry:
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    return entry


def changed(entry: AuditEntry, field: str) -> dict[str, Any]:
    return next(c for c in entry.changes if c["field"] == field)


def test_each_write_is_audited_with_actor_address_and_changes(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    admin, intake = api_as(people.admin), api_as(people.call_taker)
    complaint = ServiceType.objects.get(code="complaint")
    rule = DeadlineRule.objects.get(service_type=complaint, category__isnull=True)
    water = Category.objects.get(code="water")

    def expect(response: Any, actor: str, action: str, field: str, old: Any, new: Any) -> None:
        assert response.status_code in (200, 201), response.content
        entry = last_entry()
        assert (entry.actor_name, entry.ip, entry.action) == (actor, ADDRESS, action)
        c = changed(entry, field)
        assert (c["old"], c["new"]) == (old, new), entry.changes

    r = admin.post("/directory/departments", {"code": "bj-tax", "name": "市税务局", "kind": "bureau", "parent": "city"})
    expect(r, "admin", "department.create", "name", None, "市税务局")
    tax = r.json_body["id"]
    expect(admin.patch(f"/directory/departments/{tax}", {"phone": "12366"}), "admin", "department.update", "phone", "", "12366")
    expect(admin.patch(f"/directory/departments/{tax}", {"parent": "water"}), "admin", "department.move", "parent", tree.city.pk, tree.water.pk)
    expect(admin.delete(f"/directory/departments/{tax}"), "admin", "department.delete", "code", "bj-tax", None)
    expect(admin.delete(f"/directory/departments/{tree.xicheng.pk}"), "admin", "department.deactivate", "active", True, False)

    expect(admin.post("/directory/categories", {"code": "pets", "name": "宠物"}), "admin", "category.create", "code", None, "pets")
    expect(admin.patch(f"/directory/categories/{water.pk}", {"name": "水务"}), "admin", "category.update", "name", "供水", "水务")
    expect(admin.post("/directory/service-types", {"code": "ask", "name": "查询"}), "admin", "service_type.create", "name", None, "查询")
    expect(admin.patch(f"/directory/service-types/{complaint.pk}", {"sort": 99}), "admin", "service_type.update", "sort", 1, 99)
    expect(admin.post("/directory/sources", {"code": "app", "name": "App"}), "admin", "source.create", "code", None, "app")
    expect(admin.post("/directory/districts", {"code": "330102", "name": "东城区"}), "admin", "district.create", "code", None, "330102")

    expect(admin.patch(f"/directory/deadline-rules/{rule.pk}", {"handle_days": 12}), "admin", "deadline_rule.update", "handle_days", 15, 12)
    assert changed(last_entry(), "recompute")["new"] == {"mode": "inline", "changed": 0}
    r = admin.post("/directory/deadline-rules", {"category": "water", "handle_days": 3})
    expect(r, "admin", "deadline_rule.create", "handle_days", None, 3)
    expect(admin.delete(f"/directory/deadline-rules/{r.json_body['id']}"), "admin", "deadline_rule.delete", "handle_days", 3, None)

    expect(admin.put("/directory/holidays/2027-01-01", {"is_workday": False, "name": "元旦"}), "admin", "holiday.set",
           "2027-01-01", None, {"is_workday": False, "name": "元旦"})
    expect(admin.delete("/directory/holidays/2027-01-01"), "admin", "holiday.delete", "2027-01-01", {"is_workday": False, "name": "元旦"}, None)
    expect(admin.post("/directory/holidays/import", {"text": "2027-02-20,班,春节调休"}), "admin", "holiday.import",
           "2027-02-20", None, {"is_workday": True, "name": "春节调休"})
    expect(admin.put("/directory/parameters/warn_share", {"value": 0.25}), "admin", "parameter.set", "warn_share", 0.2, 0.25)
    expect(admin.delete("/directory/parameters/warn_share"), "admin", "parameter.reset", "warn_share", 0.25, 0.2)

    r = intake.post("/directory/citizens", {"phone": "13600001111", "name": "周先生"})
    expect(r, "call_taker", "citizen.create", "phone", None, "13600001111")
    cid = r.json_body["id"]
    expect(intake.patch(f"/directory/citizens/{cid}", {"tags": ["VIP"]}), "call_taker", "citizen.update", "tags", [], ["VIP"])
    expect(intake.post(f"/directory/citizens/{cid}/blacklist", {"preset": "permanent", "reason": "骚扰"}), "call_taker",
           "citizen.blacklist", "blacklisted", False, True)
    expect(intake.post(f"/directory/citizens/{cid}/unblacklist"), "call_taker", "citizen.unblacklist", "blacklist_reason", "骚扰", "")

    # The auditor finds them; nobody can edit them through the API.
    found = api_as(people.auditor).get("/audit", {"object_type": "directory.citizen"}).json_body
    assert {e["action"] for e in found["items"]} == {"citizen.create", "citizen.update", "citizen.blacklist", "citizen.unblacklist"}


def test_a_refused_or_invalid_write_leaves_no_audit_row(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    dispatcher, admin = api_as(people.dispatcher), api_as(people.admin)  # issuing their tokens is audited
    count = AuditEntry.objects.count()
    assert dispatcher.post("/directory/sources", {"code": "app", "name": "App"}).status_code == 403
    assert admin.post("/directory/sources", {"code": "phone", "name": "重复"}).status_code == 422
    assert admin.post("/directory/holidays/import", {"text": "2027-01-01,休\nbad,休"}).status_code == 422
    assert AuditEntry.objects.count() == count
