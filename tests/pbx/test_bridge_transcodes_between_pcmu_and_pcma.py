"""A PCMU caller and a PCMA agent: the bridge transcodes each way through G.711 tables."""

from __future__ import annotations

import asyncio

from hotline.media import g711
from hotline.pbx.rtp_endpoint import PCMA, PCMU

from tests.pbx._phones import Phone, engine, peak_frequency, run, settle, tone


def test_bridge_transcodes_between_pcmu_and_pcma() -> None:
    async def main() -> None:
        eng = engine()
        caller_leg = await eng.open_endpoint(codec=PCMU)
        agent_leg = await eng.open_endpoint(codec=PCMA)
        bridge = eng.bridge(caller_leg, agent_leg)
        caller, agent = await Phone.open("PCMU"), await Phone.open("PCMA")
        caller_frames = list(caller.frames(tone(440, 0.4)))
        agent_frames = list(agent.frames(tone(1000, 0.4)))
        await agent.talk(agent_leg.local_address, tone(1000, 0.04))  # latch the agent first
        agent.received.clear()
        await asyncio.gather(
            caller.talk(caller_leg.local_address, tone(440, 0.4)),
            agent.talk(agent_leg.local_address, tone(1000, 0.4)),
        )
        await settle()

        assert {r.packet.payload_type for r in agent.received} == {8}
        assert {r.packet.payload_type for r in caller.received} == {0}
        assert [r.packet.payload for r in agent.received] == [g711.ulaw_to_alaw(f) for f in caller_frames]
        assert [r.packet.payload for r in caller.received][-20:] == [g711.alaw_to_ulaw(f) for f in agent_frames]
        assert abs(peak_frequency(agent.audio()) - 440) < 20
        assert abs(peak_frequency(caller.audio()) - 1000) < 20
        assert bridge.transcoded == bridge.relayed
        await eng.close()
        caller.close()
        agent.close()

    run(main())
