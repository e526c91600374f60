"""When RTP stops on a leg for media_timeout seconds the bridge ends with "media-timeout"."""

from __future__ import annotations

import asyncio

from tests.pbx._phones import Phone, engine, run, tone


def test_media_timeout_ends_the_call_cleanly() -> None:
    async def main() -> None:
        eng = engine(media_timeout=0.6)
        caller_leg = await eng.open_endpoint(name="caller")
        agent_leg = await eng.open_endpoint(name="agent")
        ended: list[tuple[str, float]] = []
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def on_end(bridge: object, reason: str) -> None:
            ended.append((reason, loop.time()))
            done.set_result(None)

        bridge = eng.bridge(caller_leg, agent_leg, on_end=on_end)
        caller, agent = await Phone.open(), await Phone.open()

        async def agent_keeps_talking() -> None:
            while not done.done():
                await agent.talk(agent_leg.local_address, tone(1000, 0.1))

        talking = asyncio.ensure_future(agent_keeps_talking())
        await caller.talk(caller_leg.local_address, tone(440, 0.2))  # then the caller's phone dies
        stopped = loop.time()
        await asyncio.wait_for(done, 3.0)
        await talking

        assert [r for r, _ in ended] == ["media-timeout"]
        assert 0.6 <= ended[0][1] - stopped <= 0.6 + 0.5 + 0.8  # timeout + one housekeeping period + slack
        assert bridge.timed_out_leg is caller_leg
        assert caller_leg.closed and agent_leg.closed
        assert eng.stats()["calls"] == 0 and eng.allocator.in_use == 0
        bridge.end("hangup")  # a later hang-up changes nothing
        assert bridge.end_reason == "media-timeout" and len(ended) == 1
        await eng.close()
        caller.close()
        agent.close()

    run(main())
