"""Token buckets: the orphan hang-up budget and the per-source callback throttle."""

import time

from custom_components.cloud_sip_ua.cloudsipua.rate_limit import (
    SourceThrottle,
    TokenBucket,
)


def test_bucket_refills_at_its_rate() -> None:
    """A bucket gives `burst` at once, then `rate` per second, never more than `burst`."""
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=3.0, clock=lambda: now[0])
    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5
    assert bucket.allow()
    assert not bucket.allow()
    now[0] += 100
    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]


def test_throttle_keeps_a_bucket_per_source() -> None:
    """One source's flood does not empty another's bucket."""
    now = [0.0]
    throttle = SourceThrottle(rate=2.0, burst=3.0, clock=lambda: now[0])
    assert [throttle.allow("a") for _ in range(4)] == [True, True, True, False]
    assert throttle.allow("b")
    now[0] += 0.5
    assert throttle.allow("a")
    assert not throttle.allow("a")


def test_throttle_is_a_bounded_lru() -> None:
    """Past the bound the least recently seen source is forgotten; a busy one is kept."""
    now = [0.0]
    throttle = SourceThrottle(
        rate=1.0, burst=2.0, clock=lambda: now[0], max_sources=100
    )
    assert throttle.allow("busy")
    assert throttle.allow("busy")
    for index in range(1000):
        throttle.allow(f"10.0.{index // 256}.{index % 256}")
        if index % 50 == 0:
            assert not throttle.allow("busy")  # still remembered, still empty
    assert len(throttle) == 100


def test_throttle_cost_does_not_grow_with_sources() -> None:
    """A request costs the same with 100 and with 100,000 sources remembered (no table scan)."""

    def per_request(sources: int) -> float:
        throttle = SourceThrottle(rate=1.0, burst=1.0, max_sources=sources)
        for index in range(sources):
            throttle.allow(str(index))
        start = time.perf_counter()
        for index in range(2000):
            throttle.allow(f"new-{index}")
        return (time.perf_counter() - start) / 2000

    small, large = per_request(100), per_request(100_000)
    # The old throttle scanned its table: 7.6 ms per request at 100,000 sources.
    assert large < 20 * small + 20e-6
