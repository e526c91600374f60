"""Blind transfer (RFC 3515): the agent's SIPp phone answers and REFERs the
caller to extension 8002 (another SIPp phone); the server calls 8002, swaps
the media leg (the caller keeps its RTP port), reports progress with NOTIFY
sipfrag (100 then 200), hangs up the transferor, and the CDR names the new
agent.  A REFER to an unknown extension gets a failing NOTIFY and leaves
the call up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.pbx._phones import run
from tests.pbx._sip_client import Caller, SipClient
from tests.pbx._sip_peers import sipp_phone, wait_for
from tests.pbx.test_calls_fork_cancel_map_failures_hold_and_time_out import finish, make_directory, started


def test_refer_transfers_the_caller_to_another_extension(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        agent = await sipp_phone(addr, "8001", "pw-8001", "uas_answer_then_refer.xml", tmp_path, "-key", "target", "8002", "-key", "server", f"{addr[0]}:{addr[1]}")
        target = await sipp_phone(addr, "8002", "pw-8002", "uas_answer_silent.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            caller = Caller(client, "12345")
            final = await caller.call()
            assert final is not None and final.status == 200
            call = next(iter(server.calls.calls.values()))
            caller_rtp = call.a.rtp if call.a else None
            # the agent REFERs after 1 s; its phone exits after NOTIFY 100, NOTIFY 200 and our BYE
            assert await agent.wait(15) == 0, agent.log()
            assert call.b is not None and call.b.extension == "8002"
            assert call.bridge is not None and call.bridge.legs[0] is caller_rtp and call.bridge.legs[1] is call.b.rtp
            assert call.bridge.state == "relay" and call.transfers == 1
            bye = await client.send(caller.in_dialog("BYE", 2), 5)
            assert bye is not None and bye.status == 200
            assert await target.wait(10) == 0, target.log()  # 8002 got the BYE
            await wait_for(lambda: len(d.records) == 1)
        finally:
            client.close()
            await finish(server, agent, target)
        record = d.records[0]
        assert record.agent_extension == "8002" and record.hangup_side == "caller" and record.callee == "8001"
        kinds = [(e.kind, e.extension) for e in d.events]
        assert kinds[:2] == [("ringing", "8001"), ("answered", "8001")]
        assert ("ended", "8001") in kinds and ("answered", "8002") in kinds and kinds[-1] == ("ended", "8002")

    run(body(), timeout=90)
