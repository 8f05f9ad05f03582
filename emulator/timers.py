"""The emulator's time: the event loop's, or a virtual clock a test moves by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol


class Cancellable(Protocol):
    """A scheduled callback that can be called off (asyncio.TimerHandle is one)."""

    def cancel(self) -> None:
        """Call the callback off."""


class Timers(Protocol):
    """The time and timers the emulator's calls run on (an asyncio event loop is one).

    The library's ManualClock is one too: tests that give it to the emulator decide when its
    ring timeouts, placed-call delays and media inactivity fall due.
    """

    def time(self) -> float:
        """Return the current time in seconds (monotonic)."""

    def call_later(
        self, delay: float, callback: Callable[..., object], *args: Any
    ) -> Cancellable:
        """Run `callback(*args)` after `delay` seconds."""


async def sleep(timers: Timers, delay: float) -> None:
    """Wait `delay` seconds of `timers`' time."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    handle = timers.call_later(
        delay, lambda: None if future.done() else future.set_result(None)
    )
    try:
        await future
    finally:
        handle.cancel()
