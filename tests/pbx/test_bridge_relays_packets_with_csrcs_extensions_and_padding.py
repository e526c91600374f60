"""Packets outside the common header shape take the full parser and are relayed alike.

The endpoint reads the usual header (version 2, no padding, extension or CSRCs)
with one ``struct.unpack_from``; anything else goes through ``RtpPacket.parse``.
Over real UDP, a caller mixes both shapes (CSRCs, a header extension, padding,
marker bits) and garbage: the agent must get every audio payload, padding
stripped, in order, re-stamped into one plain stream, and the recording must hold
the caller's audio; the garbage is counted, never relayed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pytest

from hotline.media import g711
from hotline.media.rtp import RtpExtension, seq_delta
from hotline.media.wav import parse_wav_header

from tests.pbx._phones import LOOPS, SPP, Phone, engine, peak_frequency, run, settle, tone


@pytest.mark.parametrize("loop", LOOPS)
def test_bridge_relays_packets_with_csrcs_extensions_and_padding(loop: str) -> None:
    async def main() -> None:
        folder = Path(tempfile.mkdtemp(prefix="tel-shapes-"))
        eng = engine()
        caller_leg = await eng.open_endpoint(name="caller")
        agent_leg = await eng.open_endpoint(name="agent")
        bridge = eng.bridge(caller_leg, agent_leg, record_to=folder / "call.wav")
        caller, agent = await Phone.open(), await Phone.open()
        agent.send_bytes(agent.sender.send(g711.encode("PCMU", tone(1000, 0.02)), SPP).serialize(), agent_leg.local_address)
        await asyncio.sleep(0.05)  # the agent's leg latches onto the agent
        frames = list(caller.frames(tone(440, 0.8)))
        t0 = asyncio.get_running_loop().time()
        for i, payload in enumerate(frames):
            packet = caller.sender.send(payload, SPP)
            shape = i % 4
            if shape == 1:
                packet = dataclasses.replace(packet, csrcs=(11, 22, 33))
            elif shape == 2:
                packet = dataclasses.replace(packet, extension=RtpExtension(0xBEDE, b"\x10\x01\x00\x00"))
            elif shape == 3:
                packet = dataclasses.replace(packet, padding=4, marker=True)
            caller.send_bytes(packet.serialize(), caller_leg.local_address)
            if i % 10 == 5:
                caller.send_bytes(b"\x40" + bytes(40), caller_leg.local_address)  # RTP version 1: garbage
                caller.send_bytes(b"\x80\x00\x01", caller_leg.local_address)  # too short
            await asyncio.sleep(max(0.0, t0 + (i + 1) * 0.02 - asyncio.get_running_loop().time()))
        await settle()

        got = [r.packet for r in agent.received]
        assert [p.payload for p in got] == frames
        assert {p.ssrc for p in got} == {agent_leg.out.ssrc}
        assert all(not p.csrcs and p.extension is None and p.padding == 0 for p in got)
        assert all(seq_delta(b.sequence_number, a.sequence_number) == 1 for a, b in zip(got, got[1:]))
        assert caller_leg.garbage == 2 * len(range(5, len(frames), 10))
        assert caller_leg.received == len(frames) and caller_leg.counters()["lost"] == 0
        bridge.end()
        assert await bridge.wait_recording() > 0
        data = (folder / "call.wav").read_bytes()
        fmt = parse_wav_header(data)
        pcm = np.frombuffer(data[fmt.data_offset :], dtype="<i2").reshape(-1, 2)
        assert abs(peak_frequency(pcm[:, 0]) - 440) < 20  # the caller, left
        await eng.close()
        caller.close()
        agent.close()

    run(main(), loop=loop)
