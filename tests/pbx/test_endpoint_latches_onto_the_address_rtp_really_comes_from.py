"""Symmetric RTP: a caller behind NAT announces one address in SDP but sends from another.

The endpoint must send to where packets really come from (latching), ignore
a third party that sends from elsewhere once latched, and with latching off
keep sending to the SDP address.
"""

from __future__ import annotations

from tests.pbx._phones import Phone, engine, run, settle, tone


def test_endpoint_latches_onto_the_address_rtp_really_comes_from() -> None:
    async def main() -> None:
        eng = engine()
        # the SDP address: a socket that exists but is not where the phone sends from
        sdp_addr_phone = await Phone.open()
        caller_leg = await eng.open_endpoint(remote=sdp_addr_phone.address, latch=True)
        agent_leg = await eng.open_endpoint()
        eng.bridge(caller_leg, agent_leg)
        nated_caller, agent, intruder = await Phone.open(), await Phone.open(), await Phone.open()

        await agent.talk(agent_leg.local_address, tone(1000, 0.04))  # agent latched; the caller not yet
        await settle(0.05)
        assert len(sdp_addr_phone.received) == 2  # until the caller's first packet: the SDP address
        sdp_addr_phone.received.clear()
        await nated_caller.talk(caller_leg.local_address, tone(440, 0.1))
        assert caller_leg.latched and caller_leg.remote == nated_caller.address
        await agent.talk(agent_leg.local_address, tone(1000, 0.2))
        await intruder.talk(caller_leg.local_address, tone(300, 0.1))
        await settle()

        assert len(nated_caller.received) == 10  # the agent's audio reached the real source
        assert sdp_addr_phone.received == []  # and nothing went to the announced address
        assert caller_leg.foreign == 5  # the intruder was ignored...
        assert len(agent.received) == 5  # ...and never reached the agent
        await eng.close()

        # latching off: media goes to the SDP address whatever the source
        eng2 = engine()
        fixed_leg = await eng2.open_endpoint(remote=sdp_addr_phone.address, latch=False)
        other_leg = await eng2.open_endpoint()
        eng2.bridge(fixed_leg, other_leg)
        await nated_caller.talk(fixed_leg.local_address, tone(440, 0.06))
        await agent.talk(other_leg.local_address, tone(1000, 0.1))
        await settle()
        assert len(sdp_addr_phone.received) == 5
        assert not fixed_leg.latched and fixed_leg.remote == sdp_addr_phone.address
        await eng2.close()
        for p in (sdp_addr_phone, nated_caller, agent, intruder):
            p.close()

    run(main())
