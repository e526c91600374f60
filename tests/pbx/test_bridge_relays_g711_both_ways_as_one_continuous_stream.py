"""Two phones talk through a bridge over real UDP on 127.0.0.1; each hears the other.

The caller sends a 440 Hz tone, the agent a 1000 Hz tone; each side decodes
what it received and finds the other's frequency.  Same codec on both legs:
payloads pass through byte for byte, and each side sees one SSRC with
consecutive sequence numbers and timestamps advancing by 160.
"""

from __future__ import annotations

import asyncio

from hotline.media.rtp import seq_delta, timestamp_delta

import pytest

from tests.pbx._phones import LOOPS, Phone, engine, peak_frequency, run, settle, tone


@pytest.mark.parametrize("loop", LOOPS)
def test_bridge_relays_g711_both_ways_as_one_continuous_stream(loop: str) -> None:
    async def main() -> None:
        eng = engine()
        caller_leg = await eng.open_endpoint(name="caller")
        agent_leg = await eng.open_endpoint(name="agent")
        bridge = eng.bridge(caller_leg, agent_leg)
        caller, agent = await Phone.open(), await Phone.open()
        sent_by_caller = list(caller.frames(tone(440, 0.6)))
        await asyncio.gather(
            caller.talk(caller_leg.local_address, tone(440, 0.6)),
            agent.talk(agent_leg.local_address, tone(1000, 0.6)),
        )
        await settle()

        # each side hears the other, not itself
        assert abs(peak_frequency(agent.audio()) - 440) < 20
        assert abs(peak_frequency(caller.audio()) - 1000) < 20
        # no loss on loopback; the first packets of one side may go out before
        # the other side latched (symmetric RTP), so allow a couple to be dropped
        assert len(agent.received) >= 28 and len(caller.received) >= 28
        # passthrough: identical payloads, only the header is rewritten
        got = [r.packet.payload for r in agent.received]
        assert got == sent_by_caller[len(sent_by_caller) - len(got):]
        for phone, leg in ((agent, agent_leg), (caller, caller_leg)):
            packets = [r.packet for r in phone.received]
            assert {p.ssrc for p in packets} == {leg.out.ssrc}
            assert all(r.addr == leg.local_address for r in phone.received)
            assert packets[0].marker
            for a, b in zip(packets, packets[1:]):
                assert seq_delta(b.sequence_number, a.sequence_number) == 1
                assert timestamp_delta(b.timestamp, a.timestamp) == 160
        assert agent_leg.sent == len(agent.received) and caller_leg.sent == len(caller.received)
        assert bridge.relayed == 60 == agent_leg.sent + agent_leg.unsent + caller_leg.sent + caller_leg.unsent
        assert caller_leg.counters()["lost"] == 0
        bridge.end()
        await eng.close()
        caller.close()
        agent.close()

    run(main(), loop=loop)
