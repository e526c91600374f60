"""The media engine: owns the port allocator, the legs, the bridges and the limits.

One :class:`MediaEngine` per pbx process.  It opens endpoints (one per call
leg), joins them in bridges with an optional recording, and enforces the
protections of issue 3:

* at most ``max_calls`` bridges at once (:class:`CapacityExceeded` beyond);
* at most ``max_endpoints`` open legs (default ``3 * max_calls``, room for
  three-way calls);
* a leg that is opened but never bridged (a half-open dialog: offer sent,
  no answer, no BYE) is closed after ``setup_timeout`` seconds, so abandoned
  set-ups cannot hold ports or memory;
* ``close()`` ends every bridge with reason ``"shutdown"``, waits for the
  recordings to reach the disk and stops the writer thread.

The SIP side (not built yet) will call :meth:`open_endpoint` when it
builds an SDP offer or answer and :meth:`bridge` when both legs are
answered.  Nothing here imports Django.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from pathlib import Path

from hotline.pbx.bridge import Bridge, BridgeDtmfCallback, EndCallback, EndReason
from hotline.pbx.ports import RtpPortAllocator
from hotline.pbx.recorder import Recorder
from hotline.pbx.rtp_endpoint import PCMU, Addr, Codec, RtpEndpoint

__all__ = ["CapacityExceeded", "MediaEngine"]

log = logging.getLogger(__name__)


class CapacityExceeded(RuntimeError):
    """The engine is at its configured limit of calls or legs."""


class MediaEngine:
    """Factory and registry of legs and bridges (see the module docstring)."""

    def __init__(
        self,
        allocator: RtpPortAllocator,
        *,
        max_calls: int = 500,
        max_endpoints: int | None = None,
        media_timeout: float = 30.0,
        setup_timeout: float = 64.0,
        recording_chunk_bytes: int = 64 * 1024,
        recording_lag: float = 0.3,
    ) -> None:
        if max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        self.allocator = allocator
        self.max_calls = max_calls
        self.max_endpoints = max_endpoints if max_endpoints is not None else 3 * max_calls
        self.media_timeout = media_timeout
        self.setup_timeout = setup_timeout
        self.recording_chunk_bytes = recording_chunk_bytes
        self.recording_lag = recording_lag
        self.bridges: set[Bridge] = set()
        self.endpoints: set[RtpEndpoint] = set()
        self.refused = 0
        self.setup_expired = 0
        self._unbridged: dict[RtpEndpoint, asyncio.TimerHandle] = {}
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending_recordings: set[asyncio.Future[int]] = set()
        self.closed = False

    @property
    def executor(self) -> concurrent.futures.ThreadPoolExecutor:
        """The one recording writer thread (created on first use)."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotline-rec")
        return self._executor

    async def open_endpoint(
        self,
        *,
        codec: Codec = PCMU,
        remote: Addr | None = None,
        remote_rtcp: Addr | None = None,
        latch: bool = True,
        name: str = "",
    ) -> RtpEndpoint:
        """Open one leg; raises :class:`CapacityExceeded` or ``PortsExhausted``."""
        if self.closed:
            raise CapacityExceeded("media engine is shutting down")
        if len(self.endpoints) >= self.max_endpoints:
            self.refused += 1
            raise CapacityExceeded(f"leg limit reached ({self.max_endpoints} open legs)")
        endpoint = await RtpEndpoint.open(
            self.allocator, codec=codec, remote=remote, remote_rtcp=remote_rtcp, latch=latch, name=name
        )
        self.endpoints.add(endpoint)
        loop = asyncio.get_running_loop()
        self._unbridged[endpoint] = loop.call_later(self.setup_timeout, self._expire_unbridged, endpoint)
        return endpoint

    def _expire_unbridged(self, endpoint: RtpEndpoint) -> None:
        if self._unbridged.pop(endpoint, None) is not None:
            self.setup_expired += 1
            log.info("%s: never bridged within %ss; closing", endpoint.name, self.setup_timeout)
            self.close_endpoint(endpoint)

    def close_endpoint(self, endpoint: RtpEndpoint) -> None:
        """Close a leg that is not (or no longer) in a bridge."""
        handle = self._unbridged.pop(endpoint, None)
        if handle is not None:
            handle.cancel()
        endpoint.close()
        self.endpoints.discard(endpoint)

    def bridge(
        self,
        caller: RtpEndpoint,
        agent: RtpEndpoint,
        *,
        record_to: Path | None = None,
        on_end: EndCallback | None = None,
        on_dtmf: BridgeDtmfCallback | None = None,
        name: str = "",
    ) -> Bridge:
        """Join two open legs; the bridge owns them from now on."""
        if self.closed:
            raise CapacityExceeded("media engine is shutting down")
        for leg in (caller, agent):
            if leg not in self.endpoints or leg.closed:
                raise ValueError(f"{leg.name} is not an open leg of this engine")
            if leg not in self._unbridged:
                raise ValueError(f"{leg.name} is already in a bridge")
        if len(self.bridges) >= self.max_calls:
            self.refused += 1
            raise CapacityExceeded(f"call limit reached ({self.max_calls} concurrent calls)")
        loop = asyncio.get_running_loop()
        recorder = None
        if record_to is not None:
            recorder = Recorder(
                record_to, self.executor, loop.time(), lag=self.recording_lag, chunk_bytes=self.recording_chunk_bytes
            )
        bridge = Bridge(
            caller, agent, recorder=recorder, media_timeout=self.media_timeout,
            on_end=self._ended_callback(on_end), on_dtmf=on_dtmf, name=name,
        )
        for leg in (caller, agent):
            self._unbridged.pop(leg).cancel()
        self.bridges.add(bridge)
        return bridge

    def add_party(self, bridge: Bridge, leg: RtpEndpoint) -> None:
        """Add an open, unbridged leg to a bridge (three-way call)."""
        if leg not in self._unbridged:
            raise ValueError(f"{leg.name} is not an open, unbridged leg of this engine")
        bridge.add_party(leg)
        self._unbridged.pop(leg).cancel()

    def replace_party(self, bridge: Bridge, old: RtpEndpoint, new: RtpEndpoint) -> None:
        """Swap a bridged leg for an open, unbridged one (transfer); ``old`` is closed."""
        if new not in self._unbridged:
            raise ValueError(f"{new.name} is not an open, unbridged leg of this engine")
        bridge.replace_party(old, new, close=True)
        self._unbridged.pop(new).cancel()
        self.endpoints.discard(old)

    def move_party(self, src: Bridge, leg: RtpEndpoint, dst: Bridge, replacing: RtpEndpoint) -> None:
        """Attended transfer: take ``leg`` out of ``src`` (which is then ended, closing
        its other legs) and put it in ``dst`` in the place of ``replacing`` (closed)."""
        if leg not in src.legs or replacing not in dst.legs:
            raise ValueError("legs not in the given bridges")
        src.detach(leg)
        src.end("transferred")
        dst.replace_party(replacing, leg, close=True)
        self.endpoints.discard(replacing)

    def remove_party(self, bridge: Bridge, leg: RtpEndpoint) -> None:
        """Drop an added party from a three-way call and close its leg."""
        bridge.remove_party(leg, close=True)
        self.endpoints.discard(leg)

    def _ended_callback(self, user: EndCallback | None) -> Callable[[Bridge, EndReason], None]:
        def ended(bridge: Bridge, reason: EndReason) -> None:
            self.bridges.discard(bridge)
            for leg in bridge.legs:
                self.endpoints.discard(leg)
            if bridge.closed_recording is not None:
                fut = bridge.closed_recording
                self._pending_recordings.add(fut)
                fut.add_done_callback(self._pending_recordings.discard)
            if user is not None:
                user(bridge, reason)

        return ended

    async def close(self) -> None:
        """End every call ("shutdown"), close every leg, flush recordings."""
        self.closed = True
        for bridge in list(self.bridges):
            bridge.end("shutdown")
        for endpoint in list(self.endpoints):
            self.close_endpoint(endpoint)
        if self._pending_recordings:
            await asyncio.gather(*self._pending_recordings, return_exceptions=True)
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=True)  # every write was awaited above: returns at once

    def stats(self) -> dict[str, int]:
        return {
            "calls": len(self.bridges),
            "legs": len(self.endpoints),
            "ports_in_use": self.allocator.in_use,
            "refused": self.refused,
            "setup_expired": self.setup_expired,
        }
