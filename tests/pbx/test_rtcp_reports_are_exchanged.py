"""Each leg reads the peer's sender reports and sends SR/RR + SDES (and BYE at the end) to the RTCP port."""

from __future__ import annotations

import asyncio

from hotline.media.rtp import Bye, SenderReport, SourceDescription, parse_rtcp, serialize_rtcp

from tests.pbx._phones import Phone, engine, run, settle, tone


def test_rtcp_reports_are_exchanged() -> None:
    async def main() -> None:
        eng = engine()
        caller_leg = await eng.open_endpoint()
        agent_leg = await eng.open_endpoint()
        bridge = eng.bridge(caller_leg, agent_leg)
        caller, agent = await Phone.open(), await Phone.open()
        loop = asyncio.get_running_loop()
        caller_rtcp = await Phone.open()  # the caller's RTCP socket
        await agent.talk(agent_leg.local_address, tone(1000, 0.04))
        await caller.talk(caller_leg.local_address, tone(440, 0.2))
        caller_rtcp.send_bytes(serialize_rtcp([caller.sender.sender_report(1_800_000_000.0)]),
                               (caller_leg.local_address[0], caller_leg.port + 1))
        await settle(0.05)
        assert caller_leg.rtcp_received == 1
        assert caller_leg.rtcp_address() == caller_rtcp.address  # RTCP latched too

        await agent.talk(agent_leg.local_address, tone(1000, 0.1))  # something to report as sent
        caller_leg.send_rtcp(loop.time(), 1_800_000_001.0)
        bridge.end()
        await settle(0.05)
        reports = [parse_rtcp(d) for d in caller_rtcp.datagrams[-2:]]
        sr, sdes = reports[0][0], reports[0][1]
        assert isinstance(sr, SenderReport) and sr.ssrc == caller_leg.out.ssrc
        assert sr.packet_count == caller_leg.out.packets == 5
        (block,) = sr.reports
        assert block.ssrc == caller.sender.ssrc and block.cumulative_lost == 0
        assert block.highest_sequence & 0xFFFF == (caller.sender.sequence_number - 1) & 0xFFFF
        assert block.last_sr != 0 and block.delay_since_last_sr > 0
        assert isinstance(sdes, SourceDescription) and sdes.chunks[0].cname == b"hotline"
        assert isinstance(reports[1][-1], Bye)
        await eng.close()
        for p in (caller, agent, caller_rtcp):
            p.close()

    run(main())
