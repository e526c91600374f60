"""In Chromium: a department user who types another department's ticket URL (by id
or by number) gets the not-found page — nothing about the ticket, not even that it
exists — and the ticket is in none of their lists."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases import actions
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def test_department_user_cannot_open_another_departments_ticket_by_url(people: Any, tree: Any, as_user: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input(summary="东华路88号小区停水"))
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk)
    west = as_user(people.west_handler)
    page = west.page
    for ref in (t.pk, t.number):
        response = west.go(f"/tickets/{ref}/")
        assert response.status == 404
        assert "工单不存在,或您无权查看" in page.content()
        assert "东华路88号小区停水" not in page.content() and t.query_code not in page.content()
    west.shot("ticket-other-department-404")
    west.go("/work/")
    assert t.number not in page.content()
    west.go(f"/search/?q=停水")
    assert t.number not in page.content()
    assert page.locator("#result-count").inner_text().startswith("共 0 条")

    own = as_user(people.handler)
    assert own.go(f"/tickets/{t.pk}/").status == 200
