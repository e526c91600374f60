"""The conference/hold tick is re-armed at absolute times: late callbacks do not shift the schedule."""

from __future__ import annotations

import asyncio
import time

from hotline.pbx.bridge import Ticker

from tests.pbx._phones import run


def test_ticker_keeps_20ms_ticks_without_drift() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        scheduled: list[float] = []

        def work(at: float) -> None:
            scheduled.append(at)
            if len(scheduled) % 10 == 0:
                time.sleep(0.03)  # an occasional slow tick, longer than the period

        start = loop.time()
        ticker = Ticker(loop, 0.02, work)
        await asyncio.sleep(1.0)
        ticker.cancel()
        assert abs(scheduled[0] - (start + 0.02)) < 0.005
        # the schedule stays on the 20 ms grid started at construction: the slow ticks
        # (and any stall of a busy machine) delay callbacks but never shift later ticks
        steps = [round((b - a) / 0.02, 6) for a, b in zip(scheduled, scheduled[1:])]
        assert all(s == int(s) and s >= 1 for s in steps)
        # every grid slot was either run or, after a stall > 100 ms, counted as skipped
        assert len(scheduled) + ticker.skipped == round((scheduled[-1] - scheduled[0]) / 0.02) + 1
        # about 50 slots in one second, run or (on a loaded machine) skipped after a stall
        assert len(scheduled) + ticker.skipped >= 40 and len(scheduled) >= 10
        assert loop.time() - scheduled[-1] < 0.5  # and it kept up with the clock
        assert not ticker.active

    def blocked() -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            ticker = Ticker(loop, 0.02, lambda at: None)
            await asyncio.sleep(0.05)
            time.sleep(0.3)  # the loop is blocked far beyond max_behind: resync, no burst
            await asyncio.sleep(0.05)
            ticker.cancel()
            assert ticker.skipped >= 10 and ticker.ticks <= 10

        run(main())

    run(main())
    blocked()
