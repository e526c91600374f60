"""The allocator hands out (even RTP, odd RTCP) pairs, skips busy ports and refuses cleanly when none is left."""

from __future__ import annotations

import socket

import pytest

from hotline.pbx.ports import PortsExhausted, RtpPortAllocator

from tests.pbx._phones import engine, port_range, run


def test_port_exhaustion_is_refused_with_a_clear_error() -> None:
    ports = port_range(3)
    # another program holds the RTCP port of the second pair
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squatter.bind(("127.0.0.1", ports.first + 3))
    try:
        alloc = RtpPortAllocator(ports, host="127.0.0.1")
        first = alloc.allocate()
        third = alloc.allocate()
        assert (first.port, first.rtcp_port, third.port) == (ports.first, ports.first + 1, ports.first + 4)
        assert first.rtp.getsockname()[1] == first.port and first.rtcp.getsockname()[1] == first.port + 1
        with pytest.raises(PortsExhausted, match=rf"no free RTP port pair in {ports.first}-{ports.last}"):
            alloc.allocate()
        assert alloc.in_use == 2 and alloc.skipped_busy >= 1
        alloc.release(first)
        alloc.release(first)  # idempotent
        again = alloc.allocate()
        assert again.port == ports.first
        alloc.release(again)
        alloc.release(third)
        assert alloc.in_use == 0
    finally:
        squatter.close()


def test_an_engine_out_of_ports_refuses_the_leg_and_keeps_working() -> None:
    async def main() -> None:
        eng = engine(pairs=2)
        a = await eng.open_endpoint()
        b = await eng.open_endpoint()
        with pytest.raises(PortsExhausted):
            await eng.open_endpoint()
        assert eng.stats()["legs"] == 2
        eng.close_endpoint(a)
        c = await eng.open_endpoint()
        assert not c.closed
        eng.bridge(b, c).end()
        await eng.close()
        assert eng.allocator.in_use == 0

    run(main())
