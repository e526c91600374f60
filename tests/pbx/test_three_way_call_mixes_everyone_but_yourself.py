"""Three-way call: each party receives the mix of the two others, never itself."""

from __future__ import annotations

import asyncio

from hotline.pbx.rtp_endpoint import PCMA

from tests.pbx._phones import Phone, band_energy, engine, run, settle, tone

FREQS = {"caller": 440.0, "agent": 1000.0, "expert": 1800.0}


def test_three_way_call_mixes_everyone_but_yourself() -> None:
    async def main() -> None:
        eng = engine()
        caller_leg = await eng.open_endpoint()
        agent_leg = await eng.open_endpoint()
        expert_leg = await eng.open_endpoint(codec=PCMA)  # a leg in another codec joins too
        bridge = eng.bridge(caller_leg, agent_leg)
        eng.add_party(bridge, expert_leg)
        assert bridge.state == "conference"
        phones = {"caller": await Phone.open(), "agent": await Phone.open(), "expert": await Phone.open("PCMA")}
        legs = {"caller": caller_leg, "agent": agent_leg, "expert": expert_leg}
        await asyncio.gather(*(phones[n].talk(legs[n].local_address, tone(FREQS[n], 1.0)) for n in phones))
        await settle()

        for name, phone in phones.items():
            audio = phone.audio()[160 * 15 :]  # skip the start (latching, jitter buffer fill)
            assert len(audio) >= 160 * 25
            others = [f for n, f in FREQS.items() if n != name]
            for freq in others:
                assert band_energy(audio, freq) > 0.25, (name, freq)
            assert band_energy(audio, FREQS[name]) < 0.01, name
        assert bridge.conference_ticks >= 45

        eng.remove_party(bridge, expert_leg)
        assert bridge.state == "relay" and expert_leg.closed
        await settle(0.05)  # the last mixed packets still in flight
        phones["agent"].received.clear()
        await phones["caller"].talk(caller_leg.local_address, tone(440, 0.2))
        await settle(0.05)
        assert len(phones["agent"].received) == 10  # plain relay again
        await eng.close()
        for p in phones.values():
            p.close()

    run(main())
