"""A bridged call is recorded as a stereo 8 kHz WAV: caller left, agent right, real duration, silence in gaps."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import numpy as np

from hotline.media.wav import parse_wav_header
from hotline.pbx.recorder import recording_path

from tests.pbx._phones import Phone, engine, peak_frequency, run, settle, tone


def test_recording_is_stereo_with_caller_left_and_agent_right(tmp_path: Path) -> None:
    path = recording_path(tmp_path / "media", "call-1@滨江", dt.datetime(2026, 11, 25, 9, 30))
    assert path == tmp_path / "media" / "recordings" / "2026" / "11" / "25" / "call-1___.wav"

    async def main() -> float:
        eng = engine(recording_chunk_bytes=4096)  # small chunks: several writes in one call
        caller_leg = await eng.open_endpoint()
        agent_leg = await eng.open_endpoint()
        loop = asyncio.get_running_loop()
        bridge = eng.bridge(caller_leg, agent_leg, record_to=path)
        started = loop.time()
        caller, agent = await Phone.open(), await Phone.open()

        async def caller_pauses(count: int) -> None:
            if count == 50:  # after 1 s the caller is silent for 0.5 s (no packets at all)
                await asyncio.sleep(0.5)
                caller.sender.silence(4000)

        await asyncio.gather(
            caller.talk(caller_leg.local_address, tone(440, 1.5), between=caller_pauses),
            agent.talk(agent_leg.local_address, tone(1000, 2.0)),
        )
        await settle(0.05)
        duration = loop.time() - started
        bridge.end()
        assert await bridge.wait_recording() > 0
        await eng.close()
        caller.close()
        agent.close()
        return duration

    duration = run(main())
    data = path.read_bytes()
    fmt = parse_wav_header(data)
    assert (fmt.channels, fmt.sample_rate, fmt.bits) == (2, 8000, 16)
    frames = np.frombuffer(data[fmt.data_offset : fmt.data_offset + fmt.data_bytes], dtype="<i2").reshape(-1, 2)
    seconds = len(frames) / 8000
    assert 1.9 <= seconds <= duration + 0.05  # the whole call, aligned to real time
    left, right = frames[:, 0], frames[:, 1]
    assert abs(peak_frequency(left[800:7200]) - 440) < 20
    assert abs(peak_frequency(right[800:7200]) - 1000) < 20
    # the caller's pause is silence on the left while the agent still talks on the right
    pause = slice(int(1.15 * 8000), int(1.4 * 8000))
    assert np.abs(left[pause]).max() == 0
    assert np.abs(right[pause]).mean() > 1000
    # caller audio resumes after the pause
    assert abs(peak_frequency(left[int(1.6 * 8000) : int(1.9 * 8000)]) - 440) < 20
