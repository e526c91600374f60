"""办理转送单: the ticket page links a PDF of the ticket, built for the viewer (phone
masked for roles that may not see it) and refused (404) to others."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.cases import actions
from hotline.web import transfer_form
from tests.conftest import PASSWORD, ticket_input

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert c.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return c


def test_the_transfer_form_is_a_pdf_and_is_refused_outside_the_scope(people: Any, tree: Any) -> None:
    long_text = "来电人反映小区停水。" * 300  # several pages: long Chinese text wraps, nothing is cut
    t = actions.do_create_ticket(people.call_taker, ticket_input(content=long_text))
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk, [tree.water.pk], comment="请尽快核实处理")
    page = client_for(people.handler).get(f"/tickets/{t.pk}/").content.decode()
    assert f"/tickets/{t.pk}/transfer.pdf" in page
    r = client_for(people.handler).get(f"/tickets/{t.pk}/transfer.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    body = r.content
    assert body.startswith(b"%PDF-") and t.number.encode() in body  # the number is in the document's title
    assert body.count(b"/Type /Page\n") + body.count(b"/Type /Page ") >= 2 or body.count(b"/Page") >= 3
    assert client_for(people.west_handler).get(f"/tickets/{t.pk}/transfer.pdf").status_code == 404


def test_the_pdf_masks_the_phone_for_roles_that_may_not_see_it(people: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input(contact_phone="13812341234"))
    # Rendered text is in CID-encoded strings; check the values handed to the renderer instead.
    seen: list[str] = []
    original = transfer_form._p

    def spy(text: Any, style: Any = transfer_form.CELL) -> Any:
        seen.append(str(text))
        return original(text, style)

    transfer_form._p = spy  # type: ignore[assignment]
    try:
        from django.utils import timezone

        transfer_form.render(t, people.supervisor, timezone.now())
        assert "138****1234" in seen and "13812341234" not in seen
        seen.clear()
        transfer_form.render(t, people.call_taker, timezone.now())
        assert "13812341234" in seen
    finally:
        transfer_form._p = original  # type: ignore[assignment]
