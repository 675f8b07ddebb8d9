"""A model of a wide-area link for benchmarks (``--throttle MBPS --latency MS``; testing only).

Each request body is read no faster than the rate (so each connection, whose requests follow
one another, is capped), and each request waits the latency once before it is answered: what a
client sees on a long, per-stream-limited link, where parallel connections pay off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import BinaryIO


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

    def delay(self) -> None:
        """Wait the latency (called once per request, on its own thread)."""
        if self.latency > 0:
            time.sleep(self.latency)

    def reader(self, stream: BinaryIO) -> BinaryIO:
        return _ThrottledReader(stream, self.rate) if self.rate > 0 else stream


class _ThrottledReader:
    """``stream`` read at no more than ``rate`` bytes per second (sleeping between reads)."""

    def __init__(self, stream: BinaryIO, rate: float) -> None:
        self._stream = stream
        self._rate = rate
        self._start = time.monotonic()
        self._count = 0

    def read(self, size: int = -1) -> bytes:
        # Small slices keep the pace even rather than bursty.
        size = min(size, max(16384, int(self._rate / 20))) if size and size > 0 else max(16384, int(self._rate / 20))
        block = self._stream.read(size)
        self._count += len(block)
        ahead = self._count / self._rate - (time.monotonic() - self._start)
        if ahead > 0:
            time.sleep(ahead)
        return block

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
