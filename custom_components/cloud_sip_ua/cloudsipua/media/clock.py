"""Time for the media stack and the call manager: one shared 20 ms clock, and a manual one for tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import heapq
import itertools
import logging
import math
import time
from typing import Any, Protocol
import weakref

_LOGGER = logging.getLogger(__name__)

FRAME_SECONDS = 0.020
# Senders are put on a grid this fine, so one timer wakes at most 20 times a frame (not once
# per session) and a session's phase moves by under 1 ms. A 5 ms grid measured the same CPU
# (benchmarks/media_bench.py --clock shared --resolution) with four times bigger batches.
DEFAULT_RESOLUTION = 0.001

type TickCallback = Callable[[float], float | None]


class Cancellable(Protocol):
    """A scheduled callback that can be called off (asyncio.TimerHandle is one)."""

    def cancel(self) -> None:
        """Call the callback off."""


class Timers(Protocol):
    """What code needs of a clock: the time and timers (an asyncio event loop is one)."""

    def time(self) -> float:
        """Return the current time in seconds (monotonic)."""

    def call_at(
        self, when: float, callback: Callable[..., object], *args: Any
    ) -> Cancellable:
        """Run `callback(*args)` at `when`."""

    def call_later(
        self, delay: float, callback: Callable[..., object], *args: Any
    ) -> Cancellable:
        """Run `callback(*args)` after `delay` seconds."""


async def sleep(timers: Timers, delay: float) -> None:
    """Wait `delay` seconds of `timers`' time (virtual time with a ManualClock)."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    handle = timers.call_later(delay, wake)
    try:
        await future
    finally:
        handle.cancel()


class Ticker:
    """One registration with a MediaClock: a callback run at its due times."""

    __slots__ = ("_clock", "callback", "cancelled", "due", "slot")

    def __init__(self, clock: MediaClock, callback: TickCallback, due: float) -> None:
        """Remember the callback and its first due time."""
        self._clock = clock
        self.callback = callback
        self.due = due
        self.slot = 0
        self.cancelled = False

    def cancel(self) -> None:
        """Stop ticking (safe from inside a tick)."""
        if not self.cancelled:
            self.cancelled = True
            self._clock._discard(self)  # noqa: SLF001  # the clock's own helper


class MediaClock:
    """One timer handle that ticks every registered sender of an event loop at its own phase.

    Each ticker's callback gets the current time and returns its next due time (None: stop),
    so every session keeps its own 20 ms phase and its own catch-up. Due times are rounded up
    to a `resolution` grid by `align`, and tickers wait in one slot per grid step, so many
    sessions share a few wake-ups per frame and a wake-up visits only the due ones.
    """

    _shared: weakref.WeakKeyDictionary[Any, MediaClock] = weakref.WeakKeyDictionary()

    def __init__(
        self, timers: Timers, *, resolution: float = DEFAULT_RESOLUTION
    ) -> None:
        """Tick on `timers` (the event loop, or a ManualClock)."""
        self.timers = timers
        # `timers.time`, or the function it would call: an asyncio loop's time() is
        # time.monotonic() (one call less per packet received and per wake-up).
        self.now: Callable[[], float] = (
            time.monotonic
            if getattr(type(timers), "time", None) is asyncio.BaseEventLoop.time
            else timers.time
        )
        self.resolution = resolution
        self._origin: float | None = None
        self._slots: dict[int, list[Ticker]] = {}
        self._count = 0
        self._handle: Cancellable | None = None
        self._handle_at = math.inf
        self.wakeups = 0  # timer callbacks run, for benchmarks

    @classmethod
    def of(cls, timers: Timers) -> MediaClock:
        """Return the media clock shared by everything that runs on `timers`."""
        clock = cls._shared.get(timers)
        if clock is None:
            clock = cls._shared[timers] = cls(timers)
        return clock

    def time(self) -> float:
        """Return the current time."""
        return self.timers.time()

    def align(self, when: float) -> float:
        """Round `when` up to the grid, so tickers started at different times share wake-ups."""
        if self._origin is None:
            self._origin = when
        steps = math.ceil((when - self._origin) / self.resolution - 1e-6)
        return self._origin + steps * self.resolution

    def _step(self, when: float) -> int:
        """Return the grid step nearest to `when`."""
        if self._origin is None:
            self._origin = when
        return math.floor((when - self._origin) / self.resolution + 0.5)

    @property
    def tickers(self) -> int:
        """Return how many tickers are registered."""
        return self._count

    def add(self, callback: TickCallback, due: float) -> Ticker:
        """Run `callback(now)` at `due`, then at each due time it returns; return its ticker."""
        ticker = Ticker(self, callback, due)
        self._count += 1
        self._wake_for(self._put(ticker))
        return ticker

    def _put(self, ticker: Ticker) -> int:
        """File a ticker under its due step; return the step."""
        slot = ticker.slot = self._step(ticker.due)
        bucket = self._slots.get(slot)
        if bucket is None:
            self._slots[slot] = [ticker]
        else:
            bucket.append(ticker)
        return slot

    def _wake_for(self, step: int) -> None:
        """Make sure the timer fires no later than grid step `step`."""
        assert self._origin is not None
        when = self._origin + step * self.resolution
        if when < self._handle_at:
            if self._handle is not None:
                self._handle.cancel()
            self._handle_at = when
            self._handle = self.timers.call_at(when, self._fire)

    def _discard(self, ticker: Ticker) -> None:
        """Forget a cancelled ticker; the timer stops with the last one."""
        self._count -= 1
        bucket = self._slots.get(ticker.slot)
        if bucket is not None and ticker in bucket:
            bucket.remove(ticker)
            if not bucket:
                del self._slots[ticker.slot]
        if not self._slots and self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._handle_at = math.inf

    def _fire(self) -> None:
        """Tick every ticker of the due steps, then sleep until the next step with tickers."""
        # Runs every ticker of a wake-up in one loop: running and refiling are written out,
        # and a ticker is refiled as soon as it ran (under a later step: not run again now).
        self.wakeups += 1
        self._handle = None
        self._handle_at = math.inf
        now = self.now()
        step = self._step(now)  # the loop may run a timer a little early
        origin = self._origin
        assert origin is not None
        resolution = self.resolution
        floor = math.floor
        slots = self._slots
        again: list[Ticker] = []
        while slots and (first := min(slots)) <= step:
            for ticker in slots.pop(first):
                if ticker.cancelled:
                    continue
                try:
                    due = ticker.callback(now)
                except Exception:
                    # One session's failure must not stop every other session's clock.
                    _LOGGER.exception("Media clock tick failed; its ticker stops")
                    due = None
                if due is None:
                    ticker.cancel()
                elif not ticker.cancelled:  # it may have cancelled itself
                    ticker.due = due
                    slot = ticker.slot = floor((due - origin) / resolution + 0.5)
                    if slot <= step:
                        # Still behind: it runs again on the next turn of the loop (one
                        # packet per turn while catching up), as its own timer would.
                        again.append(ticker)
                    elif (bucket := slots.get(slot)) is None:
                        slots[slot] = [ticker]
                    else:
                        bucket.append(ticker)
        for ticker in again:
            bucket = slots.get(ticker.slot)
            if bucket is None:
                slots[ticker.slot] = [ticker]
            else:
                bucket.append(ticker)
        if slots:
            self._wake_for(min(slots))


class _Timer:
    """A timer of a ManualClock."""

    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(
        self, when: float, callback: Callable[..., object], args: tuple[Any, ...]
    ) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        """Call the timer off."""
        self.cancelled = True


class ManualClock:
    """Virtual time for tests: nothing happens until `advance` moves the time forward."""

    def __init__(self, start: float = 1000.0) -> None:
        """Start at `start` seconds with no timers."""
        self._now = start
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()

    def time(self) -> float:
        """Return the virtual time."""
        return self._now

    now = time

    def call_at(
        self, when: float, callback: Callable[..., object], *args: Any
    ) -> _Timer:
        """Run `callback(*args)` when the time reaches `when`."""
        timer = _Timer(when, callback, args)
        heapq.heappush(self._timers, (when, next(self._order), timer))
        return timer

    def call_later(
        self, delay: float, callback: Callable[..., object], *args: Any
    ) -> _Timer:
        """Run `callback(*args)` after `delay` seconds of virtual time."""
        return self.call_at(self._now + delay, callback, *args)

    def advance(self, seconds: float) -> None:
        """Move the time forward, running every timer that falls due on the way, in order."""
        end = self._now + seconds
        timers = self._timers
        while timers and timers[0][0] <= end + 1e-9:
            when, _order, timer = heapq.heappop(timers)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            timer.callback(*timer.args)
        self._now = end

    def jump(self, seconds: float) -> None:
        """Move the time forward without running timers, as a blocked event loop would."""
        self._now += seconds

    @property
    def pending(self) -> int:
        """Return how many timers wait to run."""
        return sum(1 for _when, _order, timer in self._timers if not timer.cancelled)
