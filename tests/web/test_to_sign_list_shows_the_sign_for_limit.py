"""待签收: a dispatched ticket first waits for its department to sign for it within one
working day. The list shows that limit under the handling deadline, and says
"签收超时" once it has passed — the handling deadline alone would look green."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hotline.cases import actions
from hotline.cases.models import Ticket
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db


def test_the_sign_for_limit_is_shown_and_marked_once_passed(people: Any, tree: Any) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    late = actions.do_create_ticket(people.call_taker, ticket_input(summary="早前派出未签收"), now=now - dt.timedelta(days=10))
    actions.do_dispatch(late.pk, people.dispatcher, tree.donghua.pk, now=now - dt.timedelta(days=10))
    fresh = actions.do_create_ticket(people.call_taker, ticket_input(summary="刚刚派出"))
    actions.do_dispatch(fresh.pk, people.dispatcher, tree.donghua.pk)
    late_t, fresh_t = Ticket.objects.get(pk=late.pk), Ticket.objects.get(pk=fresh.pk)
    assert late_t.sign_deadline < now < fresh_t.sign_deadline

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(people.handler)
    html = client.get("/work/?list=to_sign").content.decode()
    rows = {t.number: html[html.index(t.number):].split("</tr>")[0] for t in (late_t, fresh_t)}
    assert "签收超时<br>" + timezone.localtime(late_t.sign_deadline).strftime("%m-%d %H:%M") in rows[late_t.number]
    assert 'class="sign-limit late"' in rows[late_t.number]
    fresh_text = "签收<br>" + timezone.localtime(fresh_t.sign_deadline).strftime("%m-%d %H:%M")
    assert fresh_text in rows[fresh_t.number] and "签收超时" not in rows[fresh_t.number]

    actions.do_sign_for(fresh.pk, people.handler)  # signed for: the limit no longer matters
    html = client.get("/work/?list=to_handle").content.decode()
    assert fresh_t.number in html
    assert "sign-limit" not in html[html.index(fresh_t.number):].split("</tr>")[0]
