"""The per-source token bucket that throttles callback floods."""

from custom_components.cloud_sip_ua.throttle import SourceThrottle


def test_bucket_refills_and_forgets_idle_sources() -> None:
    """A source gets `burst` at once, then `rate` per second; idle buckets are dropped in bulk."""
    now = [0.0]
    throttle = SourceThrottle(rate=2.0, burst=3.0, clock=lambda: now[0])
    assert [throttle.allow("a") for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5
    assert throttle.allow("a")
    assert not throttle.allow("a")
    for index in range(5000):
        throttle.allow(f"10.0.{index // 256}.{index % 256}")
    now[0] += 1000
    throttle.allow("fresh")
    for index in range(4096):
        throttle.allow(f"new-{index}")
    assert len(throttle._buckets) <= 4096 + 2  # noqa: SLF001 - the bound is the point
