"""In Chromium, over the WebSocket served by uvicorn (Channels): a department's
to-do list counts a ticket the moment the center dispatches it, without a reload;
a ticket page being read shows a "changed" banner instead of wiping the forms."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases import actions
from hotline.cases.models import Ticket
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def test_department_list_and_ticket_page_update_without_reload(people: Any, tree: Any, as_user: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    dept = as_user(people.handler)
    page = dept.page
    dept.go("/work/?list=to_sign")
    page.wait_for_function("document.body.getAttribute('data-live-state') === 'open'")
    assert page.locator("#wl-to_sign .count").inner_text() == "0"

    center = as_user(people.dispatcher)
    center.go(f"/tickets/{t.pk}/")
    box = center.page.locator("#action-dispatch")
    box.locator("summary").click()
    box.locator("input.picker-filter").fill("东华街道")
    box.get_by_role("button", name="派单").click()
    center.page.get_by_text("已完成:派单").wait_for()
    assert Ticket.objects.get(pk=t.pk).lead_department_id == tree.donghua.pk

    page.locator("#wl-to_sign .count", has_text="1").wait_for(timeout=10_000)
    page.get_by_role("link", name=t.number).wait_for()
    dept.shot("work-live-updated")

    # On the ticket page the handler is typing; an urge from the center shows a banner.
    dept.go(f"/tickets/{t.pk}/")
    page.wait_for_function("document.body.getAttribute('data-live-state') === 'open'")
    box = page.locator("#action-request_return")
    box.locator("summary").click()
    box.get_by_label("退回理由", exact=True).fill("不属于本街道职责")
    center.go(f"/tickets/{t.pk}/")
    cbox = center.page.locator("#action-urge")
    cbox.locator("summary").click()
    cbox.get_by_role("button", name="催办").click()
    center.page.get_by_text("已完成:催办").wait_for()
    page.locator("#live-banner").wait_for(state="visible", timeout=10_000)
    assert box.get_by_label("退回理由", exact=True).input_value() == "不属于本街道职责"
    dept.shot("ticket-live-banner")


def test_automatic_urges_made_by_another_process_update_the_list_without_reload(people: Any, tree: Any, as_user: Any) -> None:
    """The deadline job runs in the worker, not in the web process, and writes its urges
    in bulk (no signals): on the embedded default (no Redis) the server's relay still
    reads them from the event table and the department's 被催办 count goes up live.
    Here the test process plays the worker."""
    import datetime as dt

    from hotline.cases import deadlines

    t = actions.do_create_ticket(people.call_taker, ticket_input())
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua_community.pk, [])
    dept = as_user(people.handler)
    page = dept.page
    dept.go("/work/?list=urged")
    page.wait_for_function("document.body.getAttribute('data-live-state') === 'open'")
    assert page.locator("#wl-urged .count").inner_text() == "0"
    page.wait_for_timeout(1500)  # the relay takes its position at its first look
    counts = deadlines.run_deadline_job(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=120))
    assert sum(counts.values()) >= 1
    page.locator("#wl-urged .count", has_text="1").wait_for(timeout=10_000)
    page.get_by_role("link", name=t.number).wait_for()
    dept.shot("work-live-automatic-urge")
