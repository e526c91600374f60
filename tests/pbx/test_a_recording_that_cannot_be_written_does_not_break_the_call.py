"""Disk trouble (here: the recording folder is a file) is logged; the call's audio goes on."""

from __future__ import annotations

from pathlib import Path

from tests.pbx._phones import Phone, engine, run, settle, tone


def test_a_recording_that_cannot_be_written_does_not_break_the_call(tmp_path: Path) -> None:
    blocker = tmp_path / "recordings"
    blocker.write_text("not a folder")

    async def main() -> None:
        eng = engine(recording_chunk_bytes=1024)
        caller_leg = await eng.open_endpoint()
        agent_leg = await eng.open_endpoint()
        bridge = eng.bridge(caller_leg, agent_leg, record_to=blocker / "2026" / "call.wav")
        caller, agent = await Phone.open(), await Phone.open()
        await agent.talk(agent_leg.local_address, tone(1000, 0.04))
        await caller.talk(caller_leg.local_address, tone(440, 1.6))  # spans a recording flush
        await settle(0.05)
        assert len(agent.received) == 80
        bridge.end()
        await bridge.wait_recording()
        assert bridge.recorder is not None and isinstance(bridge.recorder.failed, OSError)
        assert bridge.end_reason == "hangup"
        await eng.close()
        caller.close()
        agent.close()

    run(main())
    assert blocker.read_text() == "not a folder"
