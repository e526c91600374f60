"""Server-side pages through Django's test client: each role lands on its pages,
errors come back next to the field in Chinese with what was typed, and the
department scope holds for URLs typed by hand. (The browser flows are in
test_browser_*.py; these are the fast checks of the same views.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.cases import actions
from hotline.cases.models import Status, Ticket
from tests.conftest import PASSWORD, ticket_input

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    r = c.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.content[:500]
    return c


def test_login_page_refuses_a_wrong_password_in_chinese_and_keeps_the_username(people: Any) -> None:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    r = c.post("/accounts/login/", {"username": "call_taker", "password": "wrong"})
    assert r.status_code == 401
    text = r.content.decode()
    assert "用户名或密码错误" in text and 'value="call_taker"' in text


def test_every_page_of_each_role_renders(people: Any) -> None:
    pages = {
        "call_taker": ["/desk/", "/work/", "/search/", "/desk/caller/?contact_phone=13812341234"],
        "handler": ["/work/", "/dept/", "/search/"],
        "manager": ["/work/", "/dept/"],
        "dispatcher": ["/desk/", "/work/", "/search/?status=dispatched&sort=deadline"],
        "supervisor": ["/work/", "/search/"],
        "inspector": ["/work/"],
    }
    for name, urls in pages.items():
        c = client_for(getattr(people, name))
        for url in urls:
            r = c.get(url)
            assert r.status_code == 200, (name, url, r.status_code)


def test_roles_without_a_page_get_403_not_a_crash(people: Any) -> None:
    c = client_for(people.handler)
    assert c.get("/desk/").status_code == 403
    c = client_for(people.call_taker)
    assert c.get("/dept/").status_code == 403


def test_desk_shows_errors_next_to_fields_and_keeps_what_was_typed(people: Any) -> None:
    c = client_for(people.call_taker)
    r = c.post("/desk/", {"contact_phone": "12x", "citizen_name": "李女士", "source": "phone", "service_type": "complaint",
                          "summary": "", "content": "楼下餐馆油烟很大", "op": "save"})
    assert r.status_code == 422
    text = r.content.decode()
    assert "电话号码应为5-20位数字" in text and "此项必填" in text
    assert 'value="李女士"' in text and "楼下餐馆油烟很大" in text
    assert not Ticket.objects.exists()


def test_a_refused_dispatch_leaves_no_half_registered_ticket(people: Any) -> None:
    c = client_for(people.call_taker)
    data = {**ticket_input(), "op": "dispatch", "lead_department": ""}
    r = c.post("/desk/", data)
    assert r.status_code == 422
    assert "此项必填" in r.content.decode() or "所选项不存在" in r.content.decode()
    assert not Ticket.objects.exists()


def test_desk_registers_and_dispatches_and_shows_the_query_code(people: Any, tree: Any) -> None:
    c = client_for(people.call_taker)
    r = c.post("/desk/", {**ticket_input(), "op": "dispatch", "lead_department": str(tree.donghua.pk),
                          "assisting_departments": [str(tree.water.pk)]})
    assert r.status_code == 302, r.content.decode()[:2000]
    t = Ticket.objects.get()
    assert t.status == Status.DISPATCHED and t.lead_department == tree.donghua
    page = c.get(r["Location"]).content.decode()
    assert t.query_code in page and t.number in page


def test_department_user_cannot_open_another_departments_ticket(people: Any, tree: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk)
    assert client_for(people.handler).get(f"/tickets/{t.pk}/").status_code == 200
    west = client_for(people.west_handler)
    assert west.get(f"/tickets/{t.pk}/").status_code == 404
    assert west.get(f"/tickets/{t.number}/").status_code == 404
    assert west.post(f"/tickets/{t.pk}/do/sign_for/").status_code == 404
    t.refresh_from_db()
    assert t.status == Status.DISPATCHED


def test_action_errors_are_shown_on_the_ticket_page(people: Any, tree: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk)
    actions.do_sign_for(t.pk, people.handler)
    c = client_for(people.handler)
    r = c.post(f"/tickets/{t.pk}/do/request_extension/", {"new_date": "not-a-date", "comment": "需要协调多个部门"})
    assert r.status_code == 422
    text = r.content.decode()
    assert "请输入日期" in text and "需要协调多个部门" in text
    r = c.post(f"/tickets/{t.pk}/do/reply/", {"result": ""})
    assert r.status_code == 422 and "此项必填" in r.content.decode()


def test_search_rejects_a_bad_date_and_exports_xlsx(people: Any) -> None:
    actions.do_create_ticket(people.call_taker, ticket_input())
    c = client_for(people.dispatcher)
    r = c.get("/search/", {"created_from": "2026-13-40"})
    assert r.status_code == 422 and "请输入日期" in r.content.decode()
    r = c.get("/search/", {"q": "停水"})
    assert r.status_code == 200 and "东华路88号小区停水" in r.content.decode()
    r = c.get("/search/export.xlsx", {"q": "停水"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
