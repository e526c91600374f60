"""Hold: the parties stop hearing each other (silence or nothing); resume restarts the relay."""

from __future__ import annotations

import asyncio

from hotline.media.rtp import seq_delta

from tests.pbx._phones import Phone, engine, peak_frequency, run, settle, tone


def test_hold_stops_media_and_resume_restarts_it() -> None:
    async def main() -> None:
        eng = engine(media_timeout=0.3)
        caller_leg = await eng.open_endpoint()
        agent_leg = await eng.open_endpoint()
        bridge = eng.bridge(caller_leg, agent_leg)
        caller, agent = await Phone.open(), await Phone.open()
        await agent.talk(agent_leg.local_address, tone(1000, 0.04))
        await caller.talk(caller_leg.local_address, tone(440, 0.2))
        await settle(0.05)
        assert len(agent.received) == 10

        bridge.hold(fill="silence")
        agent.received.clear()
        await caller.talk(caller_leg.local_address, tone(440, 0.3))
        await asyncio.sleep(0.4)  # the agent is silent too, longer than media_timeout: no timeout on hold
        held = [r.packet for r in agent.received]
        assert bridge.state == "held"
        assert len(held) >= 20  # silence every 20 ms instead of the caller's voice
        assert all(p.payload == b"\xff" * 160 for p in held)
        assert {p.ssrc for p in held} == {agent_leg.out.ssrc}

        bridge.hold(fill="none")
        await settle(0.05)
        agent.received.clear()
        await caller.talk(caller_leg.local_address, tone(440, 0.2))
        await settle(0.05)
        assert agent.received == []

        bridge.resume()
        await caller.talk(caller_leg.local_address, tone(440, 0.2))
        await settle(0.05)
        resumed = [r.packet for r in agent.received]
        assert len(resumed) == 10 and resumed[0].marker
        assert abs(peak_frequency(agent.audio()) - 440) < 20
        assert seq_delta(resumed[0].sequence_number, held[-1].sequence_number) > 0
        assert bridge.state == "relay"
        await eng.close()
        caller.close()
        agent.close()

    run(main())
