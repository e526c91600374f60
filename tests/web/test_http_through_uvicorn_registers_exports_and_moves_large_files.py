"""Django behind the real server (``hotline web``: uvicorn, ``hotline.asgi`` and its
WSGI bridge) over HTTP on 127.0.0.1: a JSON registration and a refused one (read whole
by the loop, one worker call), the CSV export (a streaming answer), and a 1.5 MB
attachment — over the bridge's 1 MB buffer, so its body streams in through a2wsgi —
stored and downloaded back byte for byte (a ``FileResponse``, streamed out)."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from hotline.accounts import actions as account_actions
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_refuse_export_and_a_large_attachment_round_trip(live_url: str, people: Any) -> None:
    raw, _ = account_actions.do_issue_token(people.call_taker)
    with httpx.Client(base_url=live_url, headers={"Authorization": f"Bearer {raw}"}, timeout=30) as client:
        r = client.post("/api/tickets", json=ticket_input(summary="经由服务器登记的停水工单"))
        assert r.status_code == 201, r.text
        ticket = r.json()
        assert ticket["number"] and ticket["status"] == "registered"

        bad = client.post("/api/tickets", json=ticket_input(contact_phone="12x"))
        assert bad.status_code == 422
        assert any(e["field"] == "contact_phone" for e in bad.json()["errors"]), bad.text

        with client.stream("GET", "/api/tickets/export.csv", params={"q": "经由服务器登记"}) as export:
            assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
            text = b"".join(export.iter_bytes()).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == 2 and ticket["number"] in rows[1]

        content = ("来电人补充材料：东华路88号小区停水记录。\n" * 30000).encode()[: 1536 * 1024]
        assert len(content) > 1024 * 1024
        up = client.post(f"/api/tickets/{ticket['id']}/attachments", files={"file": ("停水记录.txt", content, "text/plain")})
        assert up.status_code == 201, up.text
        assert up.json()["size"] == len(content)
        down = client.get(f"/api/tickets/{ticket['id']}/attachments/{up.json()['id']}")
        assert down.status_code == 200 and down.content == content
