"""Garbage on the RTP and RTCP ports is dropped and counted; nothing reaches the event loop."""

from __future__ import annotations

import random

from hotline.media.rtp import RtpPacket

import pytest

from tests.pbx._phones import LOOPS, Phone, engine, peak_frequency, run, settle, tone


@pytest.mark.parametrize("loop", LOOPS)
def test_garbage_datagrams_are_dropped_and_counted(loop: str) -> None:
    async def main() -> None:
        eng = engine()
        caller_leg = await eng.open_endpoint()
        agent_leg = await eng.open_endpoint()
        eng.bridge(caller_leg, agent_leg)
        caller, agent, attacker = await Phone.open(), await Phone.open(), await Phone.open()
        await agent.talk(agent_leg.local_address, tone(1000, 0.04))
        await caller.talk(caller_leg.local_address, tone(440, 0.04))

        rng = random.Random(7)
        rtp_port, rtcp_port = caller_leg.local_address, (caller_leg.local_address[0], caller_leg.port + 1)
        garbage = [
            b"",
            b"\x80",
            b"\x00" * 12,  # RTP version 0
            b"\x80\x00\x00\x01",  # truncated header
            bytes([0x8F]) + bytes(11),  # claims 15 CSRCs, has none
            bytes([0xA0, 0]) + bytes(9) + b"\xff",  # padding longer than the packet
            b"\x80\xc8\x00\x10" + bytes(8),  # RTCP SR whose length exceeds the datagram
        ] + [rng.randbytes(rng.randrange(1, 300)) for _ in range(200)]
        for data in garbage:
            attacker.send_bytes(data, rtp_port)
            attacker.send_bytes(data, rtcp_port)
            caller.send_bytes(data, rtp_port)  # also from the latched address itself
        # a well-formed packet with an unknown payload type is dropped by the bridge
        caller.send_bytes(RtpPacket(13, 1, 1, caller.sender.ssrc, b"\x40").serialize(), rtp_port)
        await settle()
        assert caller_leg.garbage >= 2 * 7 + 200
        assert caller_leg.callback_errors == 0

        agent.received.clear()
        await caller.talk(caller_leg.local_address, tone(440, 0.3))
        await settle(0.05)
        assert len(agent.received) == 15  # the call goes on
        assert abs(peak_frequency(agent.audio()) - 440) < 20
        await eng.close()
        for p in (caller, agent, attacker):
            p.close()

    run(main(), loop=loop)  # run() fails if any exception reached the loop's handler
