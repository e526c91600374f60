"""Every invalid dictionary request gets a 422 whose ``errors`` name the field and the
rule; nothing is half-written (an import with one bad line loads no line at all)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.directory.models import Category, DeadlineRule, Department, HolidayOverride, Parameter
from tests.conftest import People, Tree


def rules_of(r: Any) -> set[tuple[str, str]]:
    assert r.status_code == 422, (r.status_code, r.json_body)
    return {(e["field"], e["rule"]) for e in r.json_body["errors"]}


@pytest.fixture
def admin(people: People, api_as):  # type: ignore[no-untyped-def]
    return api_as(people.admin)


def test_department_input_errors(admin: Any, tree: Tree) -> None:
    count = Department.objects.count()
    assert ("code", "unique") in rules_of(admin.post("/directory/departments", {"code": "water", "name": "重复", "kind": "bureau"}))
    assert ("parent", "exists") in rules_of(admin.post("/directory/departments", {"code": "n1", "name": "新", "kind": "bureau", "parent": "nowhere"}))
    assert ("parent", "exists") in rules_of(admin.post("/directory/departments", {"code": "n1", "name": "新", "kind": "bureau", "parent": 99999}))
    assert ("kind", "choice") in rules_of(admin.post("/directory/departments", {"code": "n1", "name": "新", "kind": "planet"}))
    assert ("code", "code_format") in rules_of(admin.post("/directory/departments", {"code": "有 空格", "name": "新", "kind": "bureau"}))
    both = rules_of(admin.post("/directory/departments", {"code": "", "name": "  ", "kind": "bureau"}))
    assert {("code", "required"), ("name", "required")} <= both
    assert ("name", "missing") in rules_of(admin.post("/directory/departments", {"code": "n2", "kind": "bureau"}))
    assert Department.objects.count() == count


def test_a_department_cannot_move_under_itself_or_its_subtree(admin: Any, tree: Tree) -> None:
    assert ("parent", "cycle") in rules_of(admin.patch(f"/directory/departments/{tree.dongcheng.pk}", {"parent": tree.dongcheng.pk}))
    assert ("parent", "cycle") in rules_of(admin.patch(f"/directory/departments/{tree.dongcheng.pk}", {"parent": "donghua-c1"}))
    assert Department.objects.get(pk=tree.dongcheng.pk).path == tree.dongcheng.path
    assert admin.patch("/directory/departments/99999", {"name": "x"}).status_code == 404


def test_categories_have_two_levels_only(admin: Any, tree: Tree) -> None:
    outage = Category.objects.get(code="water.outage")
    water = Category.objects.get(code="water")
    r = admin.post("/directory/categories", {"code": "water.outage.night", "name": "夜间停水", "parent": "water.outage"})
    assert ("parent", "two_levels") in rules_of(r)
    # A top-level category with children cannot become somebody's child.
    assert ("parent", "two_levels") in rules_of(admin.patch(f"/directory/categories/{water.pk}", {"parent": "power"}))
    assert ("parent", "cycle") in rules_of(admin.patch(f"/directory/categories/{water.pk}", {"parent": water.pk}))
    assert ("code", "unique") in rules_of(admin.post("/directory/categories", {"code": "water", "name": "供水"}))
    assert not Category.objects.filter(code="water.outage.night").exists()
    # Moving a sub-category to another top-level category is fine.
    assert admin.patch(f"/directory/categories/{outage.pk}", {"parent": "power"}).status_code == 200


def test_deadline_rules_need_positive_days_and_one_rule_per_pair(admin: Any, tree: Tree) -> None:
    count = DeadlineRule.objects.count()
    assert ("handle_days", "positive_days") in rules_of(admin.post("/directory/deadline-rules", {"category": "water", "handle_days": -3}))
    assert ("handle_days", "positive_days") in rules_of(admin.post("/directory/deadline-rules", {"category": "water", "handle_days": 0}))
    assert ("sign_days", "positive_days") in rules_of(admin.post("/directory/deadline-rules", {"category": "water", "handle_days": 3, "sign_days": -1}))
    assert ("handle_days", "int_parsing") in rules_of(admin.post("/directory/deadline-rules", {"category": "water", "handle_days": "many"}))
    # (any, any) exists in the seed and stays single; so does (any, complaint).
    assert ("category", "unique") in rules_of(admin.post("/directory/deadline-rules", {"handle_days": 20}))
    assert ("service_type", "unique") in rules_of(admin.post("/directory/deadline-rules", {"service_type": "complaint", "handle_days": 20}))
    assert ("service_type", "exists") in rules_of(admin.post("/directory/deadline-rules", {"service_type": "nonsense", "handle_days": 20}))
    assert DeadlineRule.objects.count() == count
    rule = DeadlineRule.objects.get(service_type__code="consult", category__isnull=True)
    assert ("handle_days", "positive_days") in rules_of(admin.patch(f"/directory/deadline-rules/{rule.pk}", {"handle_days": -1}))
    # Turning the consult rule into (any, any) would make a second (any, any).
    assert ("category", "unique") in rules_of(admin.patch(f"/directory/deadline-rules/{rule.pk}", {"service_type": None}))
    rule.refresh_from_db()
    assert rule.handle_days == 5 and rule.service_type is not None


def test_a_holiday_import_with_bad_lines_names_each_line_and_loads_nothing(admin: Any, tree: Tree) -> None:
    text = "\n".join([
        "date,is_workday,name",
        "2027-01-01~2027-01-03,休,元旦",
        "2027-02-30,休,春节",            # line 3: no such day
        "2027-02-20,maybe,春节调休",      # line 4: bad is_workday
        "27-4-5,0,清明节",                # line 5: bad format
        "2027-01-02,班,重复",             # line 6: already given on line 2
        "2027-05-05~2027-05-01,休,劳动节",  # line 7: range backwards
    ])
    r = admin.post("/directory/holidays/import", {"text": text})
    errors = r.json_body["errors"]
    assert r.status_code == 422
    assert {(e["line"], e["field"], e["rule"]) for e in errors} == {
        (3, "lines[3].date", "date_format"),
        (4, "lines[4].is_workday", "choice"),
        (5, "lines[5].date", "date_format"),
        (6, "lines[6].date", "duplicate"),
        (7, "lines[7].date", "range_order"),
    }
    assert all(f"line {e['line']}" in e["message"] for e in errors)
    assert HolidayOverride.objects.count() == 0
    # A date outside the announced year, and an empty import.
    assert ("lines[1].date", "year") in rules_of(admin.post("/directory/holidays/import", {"text": "2026-12-31,休,x", "year": 2027}))
    assert ("text", "not_empty") in rules_of(admin.post("/directory/holidays/import", {"text": "# nothing\n\n"}))
    assert ("text", "one_of") in rules_of(admin.post("/directory/holidays/import", {}))
    assert ("days[2].date", "date_format") in rules_of(admin.post("/directory/holidays/import", {"days": [
        {"date": "2027-01-01", "is_workday": False}, {"date": "tomorrow", "is_workday": False}]}))
    assert ("day", "date_from_datetime_parsing") in rules_of(admin.put("/directory/holidays/2027-13-01", {"is_workday": False}))
    assert ("is_workday", "choice") in rules_of(admin.put("/directory/holidays/2027-01-01", {"is_workday": "perhaps"}))
    assert HolidayOverride.objects.count() == 0


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("warn_share", 1.5, "range"),
        ("warn_share", 0, "range"),
        ("warn_share", "a lot", "type"),
        ("warn_share", True, "type"),
        ("deadline_time", "25:00", "format"),
        ("deadline_time", "9:5", "format"),
        ("reopen_days", 0, "range"),
        ("reopen_days", 2.5, "type"),
        ("auto_urge", "yes", "type"),
        ("recompute_inline_max", -1, "range"),
    ],
)
def test_bad_parameter_values_are_refused(admin: Any, key: str, value: Any, rule: str) -> None:
    r = admin.put(f"/directory/parameters/{key}", {"value": value})
    assert rules_of(r) == {("value", rule)}
    assert key in r.json_body["errors"][0]["message"]
    assert not Parameter.objects.filter(key=key).exists()


def test_an_unknown_parameter_is_404(admin: Any) -> None:
    assert admin.put("/directory/parameters/no_such_thing", {"value": 1}).status_code == 404


def test_citizen_and_blacklist_input_errors(people: People, api_as) -> None:  # type: ignore[no-untyped-def]
    client = api_as(people.call_taker)
    assert ("phone", "phone_format") in rules_of(client.post("/directory/citizens", {"phone": "call me"}))
    assert ("id_number", "id_number_format") in rules_of(client.post("/directory/citizens", {"phone": "13900001234", "id_number": "12345"}))
    assert ("other_phones[1]", "phone_format") in rules_of(client.post("/directory/citizens", {"phone": "13900001234", "other_phones": ["13900005678", "x"]}))
    assert ("tags[0]", "length") in rules_of(client.post("/directory/citizens", {"phone": "13900001234", "tags": [" "]}))
    cid = client.post("/directory/citizens", {"phone": "13900001234"}).json_body["id"]
    assert ("phone", "unique") in rules_of(client.post("/directory/citizens", {"phone": "139 0000 1234"}))
    assert ("preset", "choice") in rules_of(client.post(f"/directory/citizens/{cid}/blacklist", {"preset": "1h", "reason": "x"}))
    assert ("reason", "required") in rules_of(client.post(f"/directory/citizens/{cid}/blacklist", {"preset": "5min", "reason": ""}))
    assert ("until", "required") in rules_of(client.post(f"/directory/citizens/{cid}/blacklist", {"preset": "custom", "reason": "x"}))
    assert ("until", "future") in rules_of(client.post(f"/directory/citizens/{cid}/blacklist", {"preset": "custom", "reason": "x", "until": "2001-01-01T00:00:00+08:00"}))
    assert ("phone", "phone_format") in rules_of(client.get("/directory/citizens/lookup", {"phone": "abc"}))
    assert ("page_size", "range") in rules_of(client.get("/directory/citizens", {"page_size": 100000}))
