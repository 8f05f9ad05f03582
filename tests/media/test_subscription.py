"""Tests of audio subscriptions and latching."""

import asyncio

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media.errors import (
    SubscriptionClosedError,
)
from custom_components.cloud_sip_ua.cloudsipua.media.latching import Latch
from custom_components.cloud_sip_ua.cloudsipua.media.subscription import (
    AudioSubscription,
)


async def test_get_waits_and_iteration_ends() -> None:
    """get() waits for a frame; iteration drains the queue and ends once the stream ends."""
    sub = AudioSubscription(8000)
    waiter = asyncio.ensure_future(sub.get())
    await asyncio.sleep(0)
    sub.push(b"a")
    assert await waiter == b"a"
    sub.push(b"b")
    sub.end()
    sub.push(b"ignored")
    assert [frame async for frame in sub] == [b"b"]
    assert sub.closed
    with pytest.raises(SubscriptionClosedError):
        await sub.get()


async def test_end_wakes_a_waiting_consumer() -> None:
    """A consumer blocked in get() is woken by end()."""
    sub = AudioSubscription(8000)
    waiter = asyncio.ensure_future(sub.get())
    await asyncio.sleep(0)
    sub.end()
    with pytest.raises(SubscriptionClosedError):
        await waiter


def test_overrun_drops_oldest_and_close_unregisters() -> None:
    """A lagging consumer loses the oldest frames; close() calls the unregister hook once."""
    closed: list[AudioSubscription] = []
    sub = AudioSubscription(16000, max_frames=2, on_close=closed.append)
    for frame in (b"1", b"2", b"3"):
        sub.push(frame)
    assert sub.overruns == 1
    sub.close()
    sub.close()
    assert closed == [sub]


def test_latch() -> None:
    """Advertised address until the first valid source; then only that source is accepted."""
    assert Latch().target is None
    latch = Latch()
    latch.advertised = ("192.0.2.1", 4000)
    assert latch.target == ("192.0.2.1", 4000)
    assert latch.accepts(("198.51.100.7", 5000))
    latch.latch(("198.51.100.7", 5000))
    latch.latch(("203.0.113.9", 6000))
    assert latch.target == ("198.51.100.7", 5000)
    assert not latch.accepts(("203.0.113.9", 6000))
