"""A token bucket per source address, so that a flood from one host cannot swamp Home Assistant."""

from __future__ import annotations

from collections.abc import Callable
import time

# Buckets idle longer than this are forgotten, bounding memory under address churn.
_IDLE_SECONDS = 300.0
_MAX_SOURCES = 4096


class SourceThrottle:
    """Allow `rate` requests per second per source, with bursts up to `burst`."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start with every bucket full."""
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, source: str) -> bool:
        """Take one token from the source's bucket; False when it is empty."""
        now = self._clock()
        tokens, stamp = self._buckets.get(source, (self._burst, now))
        tokens = min(self._burst, tokens + (now - stamp) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[source] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > _MAX_SOURCES:
            self._forget_idle(now)
        return allowed

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have been idle long enough to be full again."""
        for source, (_, stamp) in list(self._buckets.items()):
            if now - stamp > _IDLE_SECONDS:
                del self._buckets[source]
