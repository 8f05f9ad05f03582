"""Token buckets: one for a single budget, and one per source with a bounded LRU of sources."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
import time


class TokenBucket:
    """Allow `rate` events per second, with bursts up to `burst`."""

    __slots__ = ("_burst", "_clock", "_rate", "_stamp", "_tokens")

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start full."""
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._stamp = clock()

    def allow(self) -> bool:
        """Take one token; False when the bucket is empty."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


class SourceThrottle:
    """A token bucket per source; the least recently seen sources are forgotten past a bound.

    Forgetting a source refills its bucket, which only ever favours a source that has been quiet
    while `max_sources` others were heard: a flood from many addresses is cut by each one's own
    bucket, and every request costs O(1) whatever the number of sources.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_sources: int = 4096,
    ) -> None:
        """Start with every bucket full."""
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._max_sources = max_sources
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        """Return how many sources are remembered."""
        return len(self._buckets)

    def allow(self, source: str) -> bool:
        """Take one token from the source's bucket; False when it is empty."""
        bucket = self._buckets.get(source)
        if bucket is None:
            bucket = self._buckets[source] = TokenBucket(
                self._rate, self._burst, self._clock
            )
            if len(self._buckets) > self._max_sources:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(source)
        return bucket.allow()
