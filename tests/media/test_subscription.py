"""Tests of audio subscriptions (latching: test_latching.py)."""

import asyncio

import pytest

from custom_components.cloud_sip_ua.cloudsipua.exceptions import SubscriptionClosedError
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
