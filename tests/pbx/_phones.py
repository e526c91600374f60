"""Test peers for the media engine: plain asyncio UDP "phones" on 127.0.0.1.

Nothing is mocked: a phone is a real UDP socket that sends G.711 RTP paced
every 20 ms (stamped with hotline.media's RtpSender) and records what it
receives.  ``run(coro)`` runs a test body in a fresh event loop and fails
the test if any exception reached the loop's exception handler.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from hotline.media import g711
from hotline.media.dtmf import DtmfSender
from hotline.media.errors import MediaParseError
from hotline.media.rtp import RtpPacket, RtpSender
from hotline.pbx.engine import MediaEngine
from hotline.pbx.ports import PortRange, RtpPortAllocator

T = TypeVar("T")
RATE = 8000
SPP = 160  # samples per 20 ms packet

# Each test process takes its own slice of ports so parallel runs by other
# engineers rarely meet; busy ports are skipped by the allocator anyway.
_base = 40000 + (random.SystemRandom().randrange(0, 200) * 100)


def port_range(pairs: int = 50) -> PortRange:
    """A fresh even port range for one test."""
    global _base
    first = _base
    _base += 2 * pairs + 2
    if _base > 64000:
        _base = 40000
    return PortRange(first, first + 2 * pairs - 1)


def allocator(pairs: int = 50) -> RtpPortAllocator:
    return RtpPortAllocator(port_range(pairs), host="127.0.0.1")


def engine(pairs: int = 50, **kwargs: Any) -> MediaEngine:
    return MediaEngine(allocator(pairs), **kwargs)


#: Event loops the engine must work on: the stdlib loop and uvloop (production).
LOOPS = ["asyncio", "uvloop"]


def run(coro: Coroutine[Any, Any, T], timeout: float = 20.0, loop: str = "asyncio") -> T:
    """Run ``coro`` in a new loop; fail on any exception the loop swallowed."""
    errors: list[dict[str, Any]] = []

    async def main() -> T:
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
        return await asyncio.wait_for(coro, timeout)

    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    outcome: list[Any] = []

    def thread_main() -> None:
        try:
            with asyncio.Runner(loop_factory=factory) as runner:
                outcome.append(("ok", runner.run(main())))
        except BaseException as exc:  # re-raised in the test's thread
            outcome.append(("error", exc))

    # A thread of its own: other tests in the session (Playwright's sync API) may leave an
    # event loop registered as running in the main thread, where asyncio.run() would refuse.
    thread = threading.Thread(target=thread_main, name="pbx-test-loop")
    thread.start()
    thread.join()
    kind, value = outcome[0]
    if kind == "error":
        raise value
    assert not errors, f"exceptions reached the event loop: {errors}"
    return value  # type: ignore[no-any-return]


def tone(freq: float, seconds: float, amplitude: float = 8000.0) -> npt.NDArray[np.int16]:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def peak_frequency(samples: npt.NDArray[np.int16]) -> float:
    """Strongest frequency of a signal (FFT peak, DC excluded)."""
    x = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    spectrum[:5] = 0
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[int(np.argmax(spectrum))])


def band_energy(samples: npt.NDArray[np.int16], freq: float, width: float = 30.0) -> float:
    x = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(spectrum[(freqs > freq - width) & (freqs < freq + width)].sum() / spectrum.sum())


@dataclass
class Received:
    packet: RtpPacket
    addr: tuple[str, int]
    at: float


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, phone: Phone) -> None:
        self.phone = phone

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.phone.datagrams.append(data)
        try:
            packet = RtpPacket.parse(data)
        except MediaParseError:
            return
        self.phone.received.append(Received(packet, addr, asyncio.get_running_loop().time()))


@dataclass
class Phone:
    """A UDP peer on 127.0.0.1 speaking G.711 RTP."""

    codec: str = "PCMU"
    payload_type: int = 0
    dtmf_payload_type: int = 101
    transport: asyncio.DatagramTransport | None = None
    received: list[Received] = field(default_factory=list)
    datagrams: list[bytes] = field(default_factory=list)
    sender: RtpSender = field(init=False)

    def __post_init__(self) -> None:
        self.sender = RtpSender(self.payload_type, rng=random.Random(id(self)))

    @classmethod
    async def open(cls, codec: str = "PCMU", payload_type: int | None = None, dtmf_payload_type: int = 101) -> Phone:
        phone = cls(codec, payload_type if payload_type is not None else (0 if codec == "PCMU" else 8), dtmf_payload_type)
        loop = asyncio.get_running_loop()
        phone.transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(phone), local_addr=("127.0.0.1", 0))
        return phone

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        addr = self.transport.get_extra_info("sockname")
        return (addr[0], addr[1])

    def send_bytes(self, data: bytes, to: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, to)

    def frames(self, audio: npt.NDArray[np.int16]) -> Iterator[bytes]:
        for i in range(0, len(audio) - SPP + 1, SPP):
            yield g711.encode(self.codec, audio[i : i + SPP])

    async def talk(self, to: tuple[str, int], audio: npt.NDArray[np.int16], *, between: Callable[[int], Awaitable[None]] | None = None) -> int:
        """Send ``audio`` as 20 ms packets paced by the loop clock; return the count."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        count = 0
        for count, payload in enumerate(self.frames(audio), 1):
            self.send_bytes(self.sender.send(payload, SPP).serialize(), to)
            if between is not None:
                await between(count)
            delay = start + count * 0.02 - loop.time()
            await asyncio.sleep(max(0.0, delay))
        return count

    async def press(self, to: tuple[str, int], digit: str, duration_ms: float = 60.0) -> None:
        """Send one RFC 4733 digit (updates every 20 ms, end packet three times)."""
        dtmf = DtmfSender(self.sender, self.dtmf_payload_type)
        for _, packet in dtmf.schedule(digit, duration_ms):
            self.send_bytes(packet.serialize(), to)
            await asyncio.sleep(0.02)

    def audio(self, payload_type: int | None = None) -> npt.NDArray[np.int16]:
        """Decoded audio of every received packet of the phone's codec, in order."""
        pt = self.payload_type if payload_type is None else payload_type
        packets = [r.packet for r in self.received if r.packet.payload_type == pt]
        if not packets:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([g711.decode(self.codec, p.payload) for p in packets])

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def settle(seconds: float = 0.1) -> None:
    """Let in-flight datagrams arrive (loopback is sub-millisecond)."""
    await asyncio.sleep(seconds)
