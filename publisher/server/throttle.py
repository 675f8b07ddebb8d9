"""Failed-login throttling per client address: a guesser gets a few tries, then one every few
seconds, instead of a thousand a second."""

from __future__ import annotations

import threading
import time
from typing import Callable

#: Failed logins an address may make at once.
BURST = 30
#: Seconds per further failed login once the burst is used up.
INTERVAL = 2.0
#: Addresses remembered; past it, those that are back to a full burst are forgotten.
MAX_ADDRESSES = 10_000


class LoginThrottle:
    """A token bucket of failed logins per address; safe to call from any thread."""

    def __init__(self, burst: int = BURST, interval: float = INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.interval = interval
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, at)
        self._lock = threading.Lock()

    def _level(self, address: str, now: float) -> float:
        tokens, at = self._buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) / self.interval)

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try to log in again; 0 when it may now."""
        with self._lock:
            level = self._level(address, self._clock())
        return 0.0 if level >= 1.0 else (1.0 - level) * self.interval

    def failed(self, address: str) -> None:
        """Count one failed login of ``address``."""
        with self._lock:
            now = self._clock()
            self._buckets[address] = (max(0.0, self._level(address, now) - 1.0), now)
            if len(self._buckets) > MAX_ADDRESSES:
                self._buckets = {a: b for a, b in self._buckets.items() if self._level(a, now) < self.burst}
