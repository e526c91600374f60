"""``DjangoDirectory`` against the real test database (SQLite by default, PostgreSQL
with DATABASE_URL): accounts by extension with both HA1 values, trunks with their
password from the environment, CDRs written once per call_id and linked to the agent,
call events delivered to the extension's group and never raising."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections

from hotline.pbx.directory import CallEvent
from hotline.pbx.directory import CallRecord as PbxCallRecord
from hotline.sip.digest import hash_a1
from hotline.telephony import actions
from hotline.telephony.models import CallRecord
from hotline.telephony.store import DjangoDirectory

pytestmark = pytest.mark.django_db(transaction=True)

T = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)


def run(coro: Any) -> Any:
    """The directory as the PBX uses it: from an event loop in a thread of its own."""
    out: dict[str, Any] = {}

    async def then_close() -> Any:
        try:
            return await coro
        finally:  # the worker thread's connection, or PostgreSQL keeps the test database busy
            await sync_to_async(connections.close_all)()

    def target() -> None:
        try:
            out["value"] = asyncio.run(then_close())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join(30)
    if "error" in out:
        raise out["error"]
    return out.get("value")


def record(call_id: str, **kw: Any) -> PbxCallRecord:
    values: dict[str, Any] = {"call_id": call_id, "direction": "inbound", "caller": "13800001111", "callee": "057112345",
                              "offered_at": T, "answered_at": T + dt.timedelta(seconds=4), "ended_at": T + dt.timedelta(seconds=94),
                              "hangup_side": "caller", "trunk": "telecom", "agent_extension": "1001", "recording_path": f"recordings/{call_id}.wav"}
    values.update(kw)
    return PbxCallRecord(**values)


def test_an_account_carries_both_ha1_values_and_only_while_usable(agents: Any, settings: Any) -> None:
    directory = DjangoDirectory()
    assert run(directory.account("1001")) is None  # no password yet
    actions.do_set_sip_password(agents.admin, agents.call_taker.pk, "Desk-Phone-77")
    account = run(directory.account("1001"))
    realm = settings.HOTLINE_SIP_REALM
    assert account.username == "1001" and account.user_id == agents.call_taker.pk
    assert dict(account.ha1) == {"MD5": hash_a1("MD5", "1001", realm, "Desk-Phone-77"), "SHA-256": hash_a1("SHA-256", "1001", realm, "Desk-Phone-77")}
    for bad in ("1002", "", "x" * 100, "1001' OR 1=1 --"):
        assert run(directory.account(bad)) is None
    actions.do_set_sip_enabled(agents.admin, agents.call_taker.pk, False)
    assert run(directory.account("1001")) is None
    actions.do_set_sip_enabled(agents.admin, agents.call_taker.pk, True)
    settings.HOTLINE_SIP_REALM = "other-realm"  # HA1 was computed for the old realm
    assert run(directory.account("1001")) is None
    settings.HOTLINE_SIP_REALM = realm
    agents.call_taker.is_active = False
    agents.call_taker.save()
    assert run(directory.account("1001")) is None


def test_trunks_come_with_their_routes_and_the_password_from_the_environment(agents: Any, monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.setenv("HOTLINE_TRUNK_TELECOM_PASSWORD", "carrier-secret")
    actions.do_create_trunk(agents.admin, {"name": "telecom", "host": "203.0.113.5", "username": "0571888", "register": True,
                                           "allowed_sources": ["203.0.113.0/24"], "outbound_prefix": "9"})
    actions.do_create_trunk(agents.admin, {"name": "off", "host": "203.0.113.6", "enabled": False})
    actions.do_create_did_route(agents.admin, {"trunk": "telecom", "did": "057112345", "extension": "1001"})
    trunks = run(DjangoDirectory().trunks())
    assert [t.name for t in trunks] == ["telecom"]
    t = trunks[0]
    assert (t.host, t.port, t.transport, t.username, t.password, t.register) == ("203.0.113.5", 5060, "udp", "0571888", "carrier-secret", True)
    assert t.allowed_sources == ("203.0.113.0/24",) and t.outbound_prefix == "9" and dict(t.did_routes) == {"057112345": "1001"}
    monkeypatch.delenv("HOTLINE_TRUNK_TELECOM_PASSWORD")
    assert run(DjangoDirectory().trunks())[0].password == ""
    secret = tmp_path / "telecom-password"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("HOTLINE_TRUNK_TELECOM_PASSWORD_FILE", str(secret))
    assert run(DjangoDirectory().trunks())[0].password == "from-a-file"
    monkeypatch.setenv("HOTLINE_TRUNK_TELECOM_PASSWORD_FILE", str(tmp_path / "missing"))
    assert run(DjangoDirectory().trunks())[0].password == ""  # logged, not raised: the PBX keeps running


def test_a_cdr_is_written_once_and_linked_to_the_agent(agents: Any) -> None:
    directory = DjangoDirectory()
    run(directory.record_call(record("abc@host")))
    run(directory.record_call(record("abc@host", caller="changed")))  # a retry: ignored, no error
    row = CallRecord.objects.get()
    assert row.agent == agents.call_taker and row.caller == "13800001111" and row.duration == 90.0
    assert row.answered_at == T + dt.timedelta(seconds=4) and row.recording_path == "recordings/abc@host.wav"
    run(directory.record_call(record("unanswered", answered_at=None, agent_extension="", hangup_side="system", hangup_cause="timeout")))
    missed = CallRecord.objects.get(call_id="unanswered")
    assert missed.agent is None and missed.duration == 0.0 and missed.hangup_cause == "timeout"
    run(directory.record_call(record("stranger", agent_extension="7777", caller="1" * 200)))
    stranger = CallRecord.objects.get(call_id="stranger")
    assert stranger.agent is None and stranger.agent_extension == "7777" and len(stranger.caller) == 64


def test_concurrent_writes_of_one_call_leave_one_row(agents: Any) -> None:
    directory = DjangoDirectory()

    async def both() -> None:
        await asyncio.gather(*(directory.record_call(record("race")) for _ in range(5)))

    run(both())
    assert CallRecord.objects.filter(call_id="race").count() == 1


def test_call_events_reach_the_extension_group_and_never_raise(agents: Any, settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.telephony.shared_layer.SharedMemoryLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    event = CallEvent(call_id="abc@host", kind="ringing", extension="1001", caller="13800001111", callee="057112345", at=T)
    directory = DjangoDirectory()

    async def send_and_receive() -> Any:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("cti.ext.1001", channel)
        await directory.call_event(event)
        await directory.call_event(CallEvent(call_id="x", kind="ringing", extension="bad ext!", caller="", callee="", at=T))
        return await asyncio.wait_for(layer.receive(channel), 5)

    message = run(send_and_receive())
    assert message == {"type": "cti.event", "kind": "ringing", "call_id": "abc@host", "caller": "13800001111",
                       "callee": "057112345", "at": T.isoformat()}
    channel_layers.backends.clear()


def test_without_a_shared_layer_events_go_to_the_web_and_an_unreachable_web_is_not_an_error(agents: Any, settings: Any) -> None:
    settings.HOTLINE_CTI_URL = "http://127.0.0.1:9/api/telephony/cti/events"  # discard port: refused
    event = CallEvent(call_id="abc", kind="ended", extension="1001", caller="1", callee="2", at=T)
    assert run(DjangoDirectory().call_event(event)) is None
