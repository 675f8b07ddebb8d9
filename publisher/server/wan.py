"""A model of a wide-area link for benchmarks (``--throttle MBPS --latency MS``; testing only).

Each request waits the latency once before it is handled, and each upload body is read no
faster than the rate (a :class:`Pacer` per request, so each connection, whose requests follow
one another, is capped): what a client sees on a long, per-stream-limited link, where parallel
connections pay off. Used on the event loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class WanModel:
    """``rate``: bytes per second per connection (0: unlimited); ``latency``: seconds per request."""

    rate: float = 0.0
    latency: float = 0.0

    @classmethod
    def from_options(cls, throttle_mbps: float | None, latency_ms: float | None) -> "WanModel | None":
        """The model for the command-line options (megabits per second, milliseconds), or None."""
        if not throttle_mbps and not latency_ms:
            return None
        return cls(rate=(throttle_mbps or 0.0) * 1_000_000 / 8, latency=(latency_ms or 0.0) / 1000)

    async def delay(self) -> None:
        """Wait the latency (once per request)."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)

    def pacer(self) -> "Pacer | None":
        """A pacer for one request body, or None when the rate is not capped."""
        return Pacer(self.rate) if self.rate > 0 else None


class Pacer:
    """Holds a body's reader back so that it averages no more than ``rate`` bytes per second."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._start = time.monotonic()
        self._count = 0

    async def take(self, count: int) -> None:
        """Account ``count`` bytes just read; sleep while the reader is ahead of the rate."""
        self._count += count
        ahead = self._count / self._rate - (time.monotonic() - self._start)
        if ahead > 0:
            await asyncio.sleep(ahead)
