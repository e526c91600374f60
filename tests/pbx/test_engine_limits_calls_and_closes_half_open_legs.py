"""Protection: a call limit, a leg limit, and legs never bridged (half-open dialogs) are closed."""

from __future__ import annotations

import asyncio

import pytest

from hotline.pbx.engine import CapacityExceeded

from tests.pbx._phones import engine, run


def test_engine_refuses_calls_beyond_the_limit() -> None:
    async def main() -> None:
        eng = engine(max_calls=2, max_endpoints=6)
        legs = [await eng.open_endpoint() for _ in range(6)]
        with pytest.raises(CapacityExceeded, match=r"leg limit reached \(6 open legs\)"):
            await eng.open_endpoint()
        first = eng.bridge(legs[0], legs[1])
        eng.bridge(legs[2], legs[3])
        with pytest.raises(ValueError, match="already in a bridge"):
            eng.bridge(legs[0], legs[4])
        with pytest.raises(CapacityExceeded, match=r"call limit reached \(2 concurrent calls\)"):
            eng.bridge(legs[4], legs[5])
        assert eng.refused == 2
        first.end()
        eng.bridge(legs[4], legs[5])  # a slot is free again
        assert eng.stats()["calls"] == 2
        await eng.close()
        assert eng.stats() == {"calls": 0, "legs": 0, "ports_in_use": 0, "refused": 2, "setup_expired": 0}
        with pytest.raises(CapacityExceeded, match="shutting down"):
            await eng.open_endpoint()

    run(main())


def test_legs_never_bridged_are_closed_after_the_setup_timeout() -> None:
    async def main() -> None:
        eng = engine(setup_timeout=0.2)
        abandoned = await eng.open_endpoint()
        kept = [await eng.open_endpoint() for _ in range(2)]
        eng.bridge(*kept)
        await asyncio.sleep(0.3)
        assert abandoned.closed and abandoned not in eng.endpoints
        assert not kept[0].closed and not kept[1].closed  # bridged legs are not touched
        assert eng.setup_expired == 1 and eng.allocator.in_use == 2
        await eng.close()

    run(main())
