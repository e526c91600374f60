"""Three-way call: during a call the agent's phone (SIPp) types *3 8002 # as
RFC 4733 DTMF; the server calls extension 8002 (another SIPp phone) and adds
it to the bridge, which becomes an N-1 mix of the three.  The caller's BYE
ends everything: both phones get their BYE and one CDR is written."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.pbx._phones import run
from tests.pbx._sip_client import Caller, SipClient
from tests.pbx._sip_peers import SCENARIOS, dtmf_pcap, sipp_phone, wait_for
from tests.pbx.test_calls_fork_cancel_map_failures_hold_and_time_out import finish, make_directory, started


def test_agent_dtmf_feature_code_brings_a_third_party_into_the_call(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        dtmf_pcap(tmp_path / "feature.pcap", "*38002#")
        scenario = tmp_path / "agent.xml"
        scenario.write_text((SCENARIOS / "uas_answer_then_conference.xml").read_text().replace(
            "[dtmf_pcap]", str(tmp_path / "feature.pcap")))
        agent = await sipp_phone(addr, "8001", "pw-8001", str(scenario), tmp_path)
        third = await sipp_phone(addr, "8002", "pw-8002", "uas_answer_silent.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            caller = Caller(client, "12345")
            final = await caller.call()
            assert final is not None and final.status == 200
            call = next(iter(server.calls.calls.values()))
            await wait_for(lambda: len(call.parties) == 1, timeout=10)
            assert [digit for role, digit in call.digits if role == "b"] == list("*38002#")
            assert call.bridge is not None and call.bridge.state == "conference" and len(call.bridge.legs) == 3
            assert call.parties[0].extension == "8002"
            await asyncio.sleep(2.0)  # the agent's SIPp waits out its pause before it expects BYE
            bye = await client.send(caller.in_dialog("BYE", 2), 5)
            assert bye is not None and bye.status == 200
            assert await agent.wait(10) == 0, agent.log()
            assert await third.wait(10) == 0, third.log()
            await wait_for(lambda: len(d.records) == 1)
        finally:
            client.close()
            await finish(server, agent, third)
        assert ("answered", "8002") in [(e.kind, e.extension) for e in d.events]

    run(body(), timeout=90)
