"""1,000 call set-ups and teardowns (some recorded, some media-timed-out) leave nothing behind."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from pathlib import Path

import pytest

from tests.pbx._phones import LOOPS, Phone, engine, run, tone


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _live_timers(loop: asyncio.AbstractEventLoop) -> int | None:
    # asyncio has no public API for pending timers; _scheduled is the stdlib loop's heap
    # (uvloop keeps its timers in libuv, out of reach: there the fds, ports and tasks tell)
    scheduled = getattr(loop, "_scheduled", None)
    return None if scheduled is None else sum(1 for h in scheduled if not h.cancelled())


@pytest.mark.parametrize("loop", LOOPS)
def test_no_tasks_handles_ports_or_files_leak_after_1000_calls(tmp_path: Path, loop: str) -> None:
    async def main() -> None:
        running = asyncio.get_running_loop()
        eng = engine(pairs=64, media_timeout=5.0, setup_timeout=5.0)
        phone = await Phone.open()
        payload = next(phone.frames(tone(440, 0.02)))
        gc.collect()
        fds_before, timers_before, threads_before = _open_fds(), _live_timers(running), threading.active_count()
        tasks_before = asyncio.all_tasks()
        for i in range(1000):
            caller = await eng.open_endpoint()
            agent = await eng.open_endpoint()
            record = tmp_path / f"{i}.wav" if i % 100 == 0 else None
            bridge = eng.bridge(caller, agent, record_to=record)
            if i % 10 == 0:  # some calls carry media
                phone.send_bytes(phone.sender.send(payload, 160).serialize(), caller.local_address)
                await asyncio.sleep(0.002)
            if i % 50 == 0:
                bridge.hold()
            if i % 97 == 0:
                third = await eng.open_endpoint()
                eng.add_party(bridge, third)
            bridge.end("hangup" if i % 2 else "media-timeout")
            if record is not None:
                await bridge.wait_recording()
        await asyncio.sleep(0.05)  # transports finish closing on the next loop iterations
        gc.collect()
        assert eng.stats()["calls"] == 0 and eng.stats()["legs"] == 0
        assert eng.allocator.in_use == 0
        assert _open_fds() == fds_before
        assert _live_timers(running) == timers_before
        assert asyncio.all_tasks() == tasks_before
        assert len(list(tmp_path.glob("*.wav"))) == 10
        await eng.close()
        assert threading.active_count() <= threads_before  # the writer thread stopped with the engine
        phone.close()

    run(main(), timeout=120, loop=loop)
