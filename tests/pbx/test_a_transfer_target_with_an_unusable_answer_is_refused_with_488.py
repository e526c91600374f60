"""Blind transfer to a phone whose 200 OK carries an SDP answer we cannot use (G.729
only): the server ACKs and BYEs the target, tells the transferor with a final
NOTIFY sipfrag 488, and the call stays with the agent, who still gets the BYE when
the caller hangs up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.pbx._phones import run
from tests.pbx._sip_client import Caller, SipClient
from tests.pbx._sip_peers import sipp_phone, wait_for
from tests.pbx.test_calls_fork_cancel_map_failures_hold_and_time_out import finish, make_directory, started


def test_a_transfer_target_with_an_unusable_answer_is_refused_with_488(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        agent = await sipp_phone(addr, "8001", "pw-8001", "uas_answer_then_refer_expect_488.xml", tmp_path,
                                 "-key", "target", "8002", "-key", "server", f"{addr[0]}:{addr[1]}")
        target = await sipp_phone(addr, "8002", "pw-8002", "uas_answer_unusable_sdp.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            caller = Caller(client, "12345")
            final = await caller.call()
            assert final is not None and final.status == 200
            call = next(iter(server.calls.calls.values()))
            agent_rtp = call.b.rtp if call.b else None
            # the target answered, was ACKed and got our BYE: its scenario ends by itself
            assert await target.wait(15) == 0, target.log()
            await wait_for(lambda: not call.transfer_forks)
            assert call.b is not None and call.b.extension == "8001" and call.b.rtp is agent_rtp
            assert call.bridge is not None and call.bridge.state == "relay"
            assert len(server.engine.endpoints) == 2  # the target's media leg is closed
            bye = await client.send(caller.in_dialog("BYE", 2), 5)
            assert bye is not None and bye.status == 200
            # the agent saw NOTIFY 100 then NOTIFY 488, and got the BYE
            assert await agent.wait(10) == 0, agent.log()
            await wait_for(lambda: len(d.records) == 1)
        finally:
            client.close()
            await finish(server, agent, target)
        record = d.records[0]
        assert record.agent_extension == "8001" and record.hangup_side == "caller"

    run(body(), timeout=90)
