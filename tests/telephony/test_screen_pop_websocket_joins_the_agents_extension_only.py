"""``/ws/cti/``: a logged-in user with an extension receives the call events of that
extension and no other; anonymous users and users without an extension are refused.
The PBX's signed POST (``/api/telephony/cti/events``) reaches the same group; a bad or
stale signature and bad fields are refused."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from hotline.telephony import cti
from hotline.telephony.consumers import CtiConsumer

pytestmark = pytest.mark.django_db


class WebsocketCommunicator(ApplicationCommunicator):
    """channels.testing.WebsocketCommunicator, minus the package import of daphne
    (``channels.testing`` imports its live-server helper, which needs daphne, not
    installed here): the same ASGI messages over asgiref's ApplicationCommunicator."""

    def __init__(self, application: Any, path: str, user: Any) -> None:
        super().__init__(application, {"type": "websocket", "path": path, "headers": [], "subprotocols": [], "user": user})

    async def connect(self) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        out = await self.receive_output(5)
        return (True, None) if out["type"] == "websocket.accept" else (False, out.get("code"))

    async def receive_json_from(self, timeout: float = 1) -> Any:
        out = await self.receive_output(timeout)
        assert out["type"] == "websocket.send", out
        return json.loads(out["text"])

    async def send_json_to(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def disconnect(self, code: int = 1000) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(1)


async def connect(user: Any) -> tuple[WebsocketCommunicator, bool, Any]:
    comm = WebsocketCommunicator(CtiConsumer.as_asgi(), "/ws/cti/", user)
    connected, code = await comm.connect()
    return comm, connected, code


def test_an_agent_gets_the_events_of_their_own_extension_only(agents: Any) -> None:
    async def scenario() -> list[Any]:
        mine, ok1, _ = await connect(agents.call_taker)
        other, ok2, _ = await connect(agents.other_taker)
        assert ok1 and ok2
        layer = get_channel_layer()
        await layer.group_send("cti.ext.1001", cti.message("ringing", "abc@h", "13800001111", "057112345", "2026-11-25T08:00:00+00:00"))
        got = await mine.receive_json_from(timeout=5)
        nothing = await other.receive_nothing(timeout=0.3)
        await layer.group_send("cti.ext.1001", {"type": "cti.event", "kind": "exploded", "call_id": "x"})  # unknown kind: dropped
        dropped = await mine.receive_nothing(timeout=0.3)
        await mine.send_json_to({"kind": "answer"})  # browsers only listen
        silent = await mine.receive_nothing(timeout=0.3)
        await mine.disconnect()
        await other.disconnect()
        return [got, nothing, dropped, silent]

    got, nothing, dropped, silent = async_to_sync(scenario)()
    assert got == {"kind": "ringing", "call_id": "abc@h", "caller": "13800001111", "callee": "057112345", "at": "2026-11-25T08:00:00+00:00"}
    assert nothing and dropped and silent


@pytest.mark.parametrize("who", ["anonymous", "no_extension", "inactive"])
def test_users_who_cannot_ring_are_refused(agents: Any, who: str) -> None:
    if who == "anonymous":
        user: Any = AnonymousUser()
    elif who == "no_extension":
        user = agents.dispatcher
    else:
        user = agents.call_taker
        user.is_active = False
    _, connected, code = async_to_sync(connect)(user)
    assert not connected and code == (4401 if who in ("anonymous", "inactive") else 4403)


def _post(client: Client, payload: dict[str, Any], signature: str | None = None) -> Any:
    body = json.dumps(payload).encode()
    headers = {cti.SIGNATURE_HEADER: cti.sign(body) if signature is None else signature}
    return client.post("/api/telephony/cti/events", body, content_type="application/json", headers=headers)


def test_the_pbxs_signed_post_reaches_the_group_and_forgeries_do_not(agents: Any) -> None:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("cti.ext.1001", channel)
    client = Client()
    good = {"extension": "1001", "kind": "answered", "call_id": "abc@h", "caller": "13800001111", "callee": "057112345", "at": "t", "sent": time.time()}
    assert _post(client, good).status_code == 202
    message = async_to_sync(asyncio.wait_for)(layer.receive(channel), 5)
    assert message["kind"] == "answered" and message["call_id"] == "abc@h"
    assert _post(client, good, signature="0" * 64).status_code == 403
    assert _post(client, good, signature="").status_code == 403
    assert _post(client, {**good, "sent": time.time() - 3600}).status_code == 403
    r = _post(client, {**good, "kind": "exploded"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = _post(client, {**good, "extension": "10 01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "extension"
    r = _post(client, {k: v for k, v in good.items() if k != "sent"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sent"
    assert async_to_sync(_nothing_more)(layer, channel)


async def _nothing_more(layer: Any, channel: str) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), 0.3)
    except asyncio.TimeoutError:
        return True
    return False
