"""No memory growth from half-open or abandoned dialogs, and a failing
directory never breaks a call.

* 100 calls to a phone that rings and never answers are given up after the
  ring timeout (CANCEL to the phone, 480 to the caller): afterwards no call,
  leg, port, dialog or pending INVITE is left.
* 100 callers that send INVITE then vanish (CANCEL) leave nothing either.
* A directory whose every method raises: REGISTER gets 500 and the server
  goes on; with working accounts but failing CDR/event delivery the call
  still completes and the failures are counted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hotline.pbx.directory import CallEvent, CallRecord, MemoryDirectory
from hotline.pbx.server import PbxServer
from hotline.sip.message import Request, parse_message, response_for

from tests.pbx._phones import run
from tests.pbx._sip_client import Caller, SipClient
from tests.pbx._sip_peers import account, config, sipp_phone, wait_for
from tests.pbx.test_calls_fork_cancel_map_failures_hold_and_time_out import TRUNK, make_directory


async def ringing_phone(client: SipClient) -> None:
    """Answer INVITE with 180 (never 200), CANCEL with 200 + 487."""
    tag = "ph1"
    while True:
        data = await client.proto.queue.get()
        message = parse_message(data)
        if not isinstance(message, Request):
            continue
        if message.method == "INVITE":
            client.send_raw(response_for(message, 180, to_tag=tag).serialize())
            client.invites = getattr(client, "invites", {})
            client.invites[message.call_id()] = message
        elif message.method == "CANCEL":
            client.send_raw(response_for(message, 200, to_tag=tag).serialize())
            invite = getattr(client, "invites", {}).pop(message.call_id(), None)
            if invite is not None:
                client.send_raw(response_for(invite, 487, to_tag=tag).serialize())


def assert_clean(server: PbxServer) -> None:
    stats = server.stats()
    assert stats["calls"]["calls"] == 0 and stats["calls"]["dialog_legs"] == 0, stats
    assert stats["calls"]["pending_invites"] == 0, stats
    assert stats["media"]["legs"] == 0 and stats["media"]["ports_in_use"] == 0, stats
    assert not server.calls.calls and not server.calls.legs and not server.calls.by_invite_key


def test_unanswered_and_abandoned_calls_leave_nothing_behind(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = PbxServer(config(tmp_path, rate_limit_per_second=0), d)  # the callers are fast on purpose
        await server.start()
        server.calls.ring_timeout = 0.3
        addr = server.udp_address
        assert addr is not None
        phone = await SipClient.open(addr)
        ok = await phone.register("8001", "pw-8001")
        assert ok is not None and ok.status == 200
        responder = asyncio.get_running_loop().create_task(ringing_phone(phone))
        callers = [await SipClient.open(addr, host="127.0.0.2") for _ in range(4)]
        try:
            statuses = []
            for i in range(100):
                final = await Caller(callers[i % 4], "12345").call(timeout=5)
                statuses.append(final.status if final else None)
            assert statuses == [480] * 100
            await wait_for(lambda: len(d.records) == 100)
            assert {r.hangup_cause for r in d.records} == {"no answer"}
            for i in range(100):  # callers that give up before anyone answers
                caller = Caller(callers[i % 4], "12345")
                callers[i % 4].send_raw(caller.invite().serialize())
                await asyncio.sleep(0.005)
                caller.cancel()
            await wait_for(lambda: len(d.records) == 200, timeout=20)
            await asyncio.sleep(0.5)
            assert_clean(server)
            # transactions are bounded by their own timers, not by the number of calls made
            assert server.stats()["sip"]["udp"]["transactions"] < 1500
        finally:
            responder.cancel()
            phone.close()
            for c in callers:
                c.close()
            await server.stop()
        assert server.stats()["sip"]["udp"]["handler_errors"] == 0

    run(body(), timeout=90)


class BrokenDirectory(MemoryDirectory):
    def __init__(self, *args: Any, broken_accounts: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.broken_accounts = broken_accounts

    async def account(self, username: str) -> Any:
        if self.broken_accounts:
            raise ConnectionError("database is down")
        return await super().account(username)

    async def record_call(self, record: CallRecord) -> None:
        raise ConnectionError("database is down")

    async def call_event(self, event: CallEvent) -> None:
        raise RuntimeError("channel layer is down")


def test_a_failing_directory_never_breaks_registration_or_calls(tmp_path: Path) -> None:
    async def body() -> None:
        broken = BrokenDirectory([account("8001", "pw-8001")], [TRUNK], broken_accounts=True)
        server = PbxServer(config(tmp_path), broken)
        await server.start()
        addr = server.udp_address
        assert addr is not None
        client = await SipClient.open(addr)
        try:
            r = await client.register("8001", "pw-8001")
            assert r is not None and r.status == 500
            options = await client.send(client.request("OPTIONS", "x"))
            assert options is not None and options.status == 200
        finally:
            client.close()
            await server.stop()

        flaky = BrokenDirectory([account("8001", "pw-8001")], [TRUNK])
        server = PbxServer(config(tmp_path), flaky)
        await server.start()
        addr = server.udp_address
        assert addr is not None
        phone = await sipp_phone(addr, "8001", "pw-8001", "uas_answer_silent.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            caller = Caller(client, "12345")
            final = await caller.call()
            assert final is not None and final.status == 200
            await asyncio.sleep(0.3)
            bye = await client.send(caller.in_dialog("BYE", 2), 5)
            assert bye is not None and bye.status == 200
            assert await phone.wait(10) == 0, phone.log()
            await wait_for(lambda: server.calls.directory_errors >= 3)  # ringing/answered/ended + CDR
        finally:
            client.close()
            await phone.stop()
            await server.stop()
        assert server.calls.answered == 1 and server.stats()["sip"]["udp"]["handler_errors"] == 0

    run(body(), timeout=60)
