"""RFC 4733 digits from the caller reach the agent (with the agent's payload type) and are reported once each."""

from __future__ import annotations

from hotline.media.dtmf import DtmfReceiver
from hotline.pbx.rtp_endpoint import Codec

from tests.pbx._phones import Phone, engine, run, settle, tone


def test_dtmf_passes_through_the_bridge_and_is_reported() -> None:
    async def main() -> None:
        eng = engine()
        reported: list[tuple[str, str]] = []
        caller_leg = await eng.open_endpoint(codec=Codec("PCMU", 0, dtmf_payload_type=101), name="caller")
        agent_leg = await eng.open_endpoint(codec=Codec("PCMU", 0, dtmf_payload_type=96), name="agent")
        eng.bridge(caller_leg, agent_leg, on_dtmf=lambda b, leg, d: reported.append((leg.name, d.digit)))
        caller, agent = await Phone.open(dtmf_payload_type=101), await Phone.open(dtmf_payload_type=96)
        await agent.talk(agent_leg.local_address, tone(1000, 0.04))
        await caller.talk(caller_leg.local_address, tone(440, 0.04))
        for digit in "1#9":
            await caller.press(caller_leg.local_address, digit)
        await caller.talk(caller_leg.local_address, tone(440, 0.04))
        await settle()

        assert reported == [("caller", "1"), ("caller", "#"), ("caller", "9")]
        events = [r.packet for r in agent.received if r.packet.payload_type == 96]
        assert len(events) == 3 * (2 + 3)  # 60 ms: two updates and three end packets per digit
        receiver = DtmfReceiver(payload_type=96)
        digits = [d.digit for p in events for d in receiver.feed(p, 0.0)]
        assert digits == ["1", "#", "9"]
        assert [r.packet.ssrc for r in agent.received] == [agent_leg.out.ssrc] * len(agent.received)
        await eng.close()
        caller.close()
        agent.close()

    run(main())
