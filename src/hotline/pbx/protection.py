"""Protection against scanners and floods: per-source token buckets, bans after
failed digest checks, trusted networks.

Everything is keyed by the source IP address (not the port: a scanner
changes ports).  Tables are bounded: the oldest entries are forgotten when
``max_sources`` is reached, so a flood from spoofed addresses cannot grow
memory without limit.  ``admit(addr)`` is called for every datagram before
it is parsed, so it is a couple of dictionary operations.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Protection"]


@dataclass
class _Bucket:
    tokens: float
    at: float


class Protection:
    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        ban_after: int,
        ban_seconds: float,
        trusted: tuple[str, ...] = (),
        max_sources: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.ban_after = ban_after
        self.ban_seconds = ban_seconds
        self.trusted = tuple(ipaddress.ip_network(n, strict=False) for n in trusted)
        self.max_sources = max_sources
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._failures: OrderedDict[str, int] = OrderedDict()
        self._bans: dict[str, float] = {}
        self._trusted_cache: dict[str, bool] = {}
        self.rate_limited = 0
        self.banned_drops = 0
        self.bans = 0

    def is_trusted(self, host: str) -> bool:
        cached = self._trusted_cache.get(host)
        if cached is None:
            try:
                ip = ipaddress.ip_address(host)
                cached = any(ip in net for net in self.trusted)
            except ValueError:
                cached = False
            if len(self._trusted_cache) >= self.max_sources:
                self._trusted_cache.clear()
            self._trusted_cache[host] = cached
        return cached

    def admit(self, addr: tuple[str, int]) -> bool:
        """May this datagram be processed? (False: drop it silently.)"""
        host = addr[0]
        if not self.trusted and not self._bans and self.rate <= 0:
            return True
        if self.trusted and self.is_trusted(host):
            return True
        now = self.clock()
        if self._bans:
            until = self._bans.get(host)
            if until is not None:
                if now < until:
                    self.banned_drops += 1
                    return False
                del self._bans[host]
                self._failures.pop(host, None)
        if self.rate <= 0:
            return True
        bucket = self._buckets.get(host)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[host] = bucket
            if len(self._buckets) > self.max_sources:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            self._buckets.move_to_end(host)
        if bucket.tokens < 1.0:
            self.rate_limited += 1
            return False
        bucket.tokens -= 1.0
        return True

    def auth_failed(self, host: str) -> bool:
        """Count a failed digest check; True when the source is now banned."""
        if self.is_trusted(host) or self.ban_after <= 0:
            return False
        count = self._failures.pop(host, 0) + 1
        self._failures[host] = count
        if len(self._failures) > self.max_sources:
            self._failures.popitem(last=False)
        if count >= self.ban_after:
            self._bans[host] = self.clock() + self.ban_seconds
            self._failures.pop(host, None)
            self.bans += 1
            if len(self._bans) > self.max_sources:
                now = self.clock()
                for banned, until in list(self._bans.items()):
                    if until <= now:
                        del self._bans[banned]
            return True
        return False

    def auth_succeeded(self, host: str) -> None:
        self._failures.pop(host, None)

    def is_banned(self, host: str) -> bool:
        until = self._bans.get(host)
        return until is not None and self.clock() < until

    def stats(self) -> dict[str, int]:
        return {
            "rate_limited": self.rate_limited,
            "banned_drops": self.banned_drops,
            "bans": self.bans,
            "banned_now": sum(1 for u in self._bans.values() if u > self.clock()),
            "tracked_sources": len(self._buckets),
        }
