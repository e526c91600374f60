"""Administration pages: each change goes through directory/accounts actions, is
audited, takes effect on the next request, and a refused change is explained next
to the field with what was typed kept. Only administrators get the pages; the
audit log viewer is for auditors."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.accounts.models import Role, User
from hotline.audit.models import AuditEntry
from hotline.directory import parameters
from hotline.directory.models import Department, HolidayOverride
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert c.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return c


def test_only_administrators_get_the_admin_pages_and_only_auditors_the_audit_log(people: Any) -> None:
    for url in ("/manage/departments/", "/manage/users/", "/manage/parameters/", "/manage/holidays/"):
        assert client_for(people.admin).get(url).status_code == 200, url
        assert client_for(people.dispatcher).get(url).status_code == 403, url
    assert client_for(people.auditor).get("/audit/").status_code == 200
    assert client_for(people.admin).get("/audit/").status_code == 403


def test_a_department_is_created_and_a_bad_one_is_explained(people: Any, tree: Any) -> None:
    c = client_for(people.admin)
    r = c.post("/manage/departments/", {"name": "东华社区二居委会", "code": "", "kind": "community", "parent": str(tree.donghua.pk),
                                        "can_handle": "on", "active": "on", "sort": "0"})
    assert r.status_code == 422
    assert 'value="东华社区二居委会"' in r.content.decode()
    r = c.post("/manage/departments/", {"name": "东华社区二居委会", "code": "donghua-c2", "kind": "community",
                                        "parent": str(tree.donghua.pk), "can_handle": "on", "active": "on", "sort": "0"})
    assert r.status_code == 302
    d = Department.objects.get(code="donghua-c2")
    assert d.parent_id == tree.donghua.pk and d.path.startswith(tree.donghua.path)
    assert AuditEntry.objects.filter(action="department.create", actor=people.admin).exists()
    # The desk offers it at once.
    assert "东华社区二居委会" in client_for(people.call_taker).get("/desk/").content.decode()


def test_a_parameter_changes_without_restart_and_a_bad_value_is_refused(people: Any) -> None:
    c = client_for(people.admin)
    r = c.post("/manage/parameters/", {"key": "reopen_days", "value": "abc"})
    assert r.status_code == 422 and "请输入数字" in r.content.decode()
    r = c.post("/manage/parameters/", {"key": "reopen_days", "value": "999"})
    assert r.status_code == 422 and "超出允许范围" in r.content.decode()
    assert c.post("/manage/parameters/", {"key": "reopen_days", "value": "7"}).status_code == 302
    assert parameters.get("reopen_days") == 7
    assert c.post("/manage/parameters/", {"key": "reopen_days", "reset": "1"}).status_code == 302
    assert parameters.get("reopen_days") == parameters.DEFAULTS["reopen_days"]


def test_a_years_holiday_schedule_is_imported_and_bad_lines_are_named(people: Any) -> None:
    c = client_for(people.admin)
    r = c.post("/manage/holidays/", {"op": "import", "year": "2027", "text": "2027-10-01,0,国庆节\n2027-13-01,0,错误"})
    assert r.status_code == 422 and "第2行" in r.content.decode()
    assert not HolidayOverride.objects.filter(date__year=2027).exists()
    r = c.post("/manage/holidays/", {"op": "import", "year": "2027", "text": "2027-10-01,0,国庆节\n2027-10-09,1,国庆调休上班"})
    assert r.status_code == 302
    assert HolidayOverride.objects.filter(date__year=2027).count() == 2
    assert "国庆调休上班" in c.get("/manage/holidays/?year=2027").content.decode()


def test_a_user_is_created_with_a_role_and_department_rules_apply(people: Any, tree: Any) -> None:
    c = client_for(people.admin)
    r = c.post("/manage/users/", {"username": "li_handler", "display_name": "李承办", "role": str(int(Role.DEPT_HANDLER)),
                                  "department": "", "password": "Binjiang-2026-xyz", "is_active": "on"})
    assert r.status_code == 422 and 'value="李承办"' in r.content.decode()
    r = c.post("/manage/users/", {"username": "li_handler", "display_name": "李承办", "role": str(int(Role.DEPT_HANDLER)),
                                  "department": str(tree.water.pk), "password": "Binjiang-2026-xyz", "is_active": "on"})
    assert r.status_code == 302
    u = User.objects.get(username="li_handler")
    assert u.role == Role.DEPT_HANDLER and u.department_id == tree.water.pk
    assert Client().post("/accounts/login/", {"username": "li_handler", "password": "Binjiang-2026-xyz"}).status_code == 302


def test_the_audit_log_viewer_filters_and_rejects_a_bad_date(people: Any) -> None:
    c = client_for(people.auditor)
    r = c.get("/audit/", {"action": "user.create"})
    assert r.status_code == 200 and "user.create" in r.content.decode()
    assert c.get("/audit/", {"since": "2026-02-30"}).status_code == 422


def test_the_audit_log_counts_up_to_a_cap_and_pages_within_it(people: Any, monkeypatch: Any) -> None:
    """The log grows by every action: it is counted only up to a cap (an exact count
    of a filtered million-row log reads all of it), and pages stay within the cap."""
    from hotline.web import admin

    c = client_for(people.auditor)
    entries = AuditEntry.objects.count()  # the fixture's users, the logins
    assert entries > 8
    r = c.get("/audit/")
    assert f"共 {entries} 条记录" in r.content.decode()
    monkeypatch.setattr(admin, "AUDIT_COUNT_CAP", 8)
    monkeypatch.setattr(admin, "AUDIT_PAGE", 4)
    text = c.get("/audit/").content.decode()
    assert "超过 8 条记录" in text and "第 1 / 2 页" in text
    last = c.get("/audit/", {"page": "99"}).content.decode()
    assert "第 2 / 2 页" in last and last.count("<tr><td>") == 4  # entries 5 to 8 of the newest
    ids = [str(i) for i in AuditEntry.objects.order_by("-at", "-id").values_list("object_id", flat=True)[4:8]]
    assert all(f"#{i}" in last for i in ids)


def test_dictionary_entries_and_deadline_rules_are_edited_through_the_actions(people: Any) -> None:
    from hotline.directory.models import Category, DeadlineRule, ServiceType

    c = client_for(people.admin)
    water = Category.objects.get(code="water")
    r = c.post("/manage/dictionary/category/", {"name": "二次供水", "code": "water.secondary", "parent": str(water.pk), "active": "on", "sort": "9"})
    assert r.status_code == 302
    assert Category.objects.get(code="water.secondary").parent_id == water.pk
    r = c.post("/manage/dictionary/category/", {"name": "重复", "code": "water.secondary", "active": "on", "sort": "0"})
    assert r.status_code == 422 and 'value="重复"' in r.content.decode()
    assert c.post("/manage/dictionary/service_type/", {"name": "意见", "code": "opinion", "active": "on", "sort": "20"}).status_code == 302
    assert ServiceType.objects.filter(code="opinion", active=True).exists()
    assert c.get("/manage/dictionary/nonsense/").status_code == 404

    complaint = ServiceType.objects.get(code="complaint")
    r = c.post("/manage/deadline-rules/", {"service_type": str(complaint.pk), "category": str(water.pk), "handle_days": "0", "sign_days": "1"})
    assert r.status_code == 422 and "工作日数" in r.content.decode()
    r = c.post("/manage/deadline-rules/", {"service_type": str(complaint.pk), "category": str(water.pk), "handle_days": "7", "sign_days": "1"})
    assert r.status_code == 302
    rule = DeadlineRule.objects.get(service_type=complaint, category=water)
    assert rule.handle_days == 7
    assert AuditEntry.objects.filter(actor=people.admin, action__startswith="deadline_rule").exists()
    assert c.post(f"/manage/deadline-rules/{rule.pk}/", {"op": "delete"}).status_code == 302
    assert not DeadlineRule.objects.filter(pk=rule.pk).exists()
