"""Audio subscriptions: a bounded async stream of decoded 20 ms PCM frames for one consumer."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from ..exceptions import SubscriptionClosedError  # noqa: TID252  # the library stays relocatable

DEFAULT_MAX_FRAMES = (
    50  # one second: a slower consumer loses the oldest frames, not memory
)


class AudioSubscription:
    """Async iterator of 16-bit mono PCM frames (20 ms each) at `sample_rate`."""

    __slots__ = (
        "_ended",
        "_frames",
        "_max_frames",
        "_on_close",
        "_waiter",
        "overruns",
        "sample_rate",
    )

    def __init__(
        self,
        sample_rate: int,
        *,
        max_frames: int = DEFAULT_MAX_FRAMES,
        on_close: Callable[[AudioSubscription], None] | None = None,
    ) -> None:
        """Create an open subscription; `on_close` unregisters it from its session."""
        self.sample_rate = sample_rate
        self.overruns = 0
        self._max_frames = max_frames
        self._frames: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._on_close = on_close

    @property
    def closed(self) -> bool:
        """Tell whether no more frames will be pushed."""
        return self._ended

    def push(self, frame: bytes) -> None:
        """Queue a frame (session side); the oldest is dropped if the consumer lags."""
        if self._ended:
            return
        frames = self._frames
        if len(frames) >= self._max_frames:
            frames.popleft()
            self.overruns += 1
        frames.append(frame)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def end(self) -> None:
        """Stop the stream (session side); queued frames can still be read."""
        self._ended = True
        self._on_close = None
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self) -> None:
        """Stop receiving frames and drop the queued ones (consumer side)."""
        on_close = self._on_close
        self._frames.clear()
        self.end()
        if on_close is not None:
            on_close(self)

    async def get(self) -> bytes:
        """Return the next frame; raise SubscriptionClosedError once closed and drained."""
        while not self._frames:
            if self._ended:
                raise SubscriptionClosedError("audio subscription closed")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._frames.popleft()

    def take_ready(self) -> list[bytes]:
        """Return and remove every queued frame without waiting (for consumers that batch)."""
        frames = list(self._frames)
        self._frames.clear()
        return frames

    def __aiter__(self) -> AudioSubscription:
        """Return self: the subscription is its own iterator."""
        return self

    async def __anext__(self) -> bytes:
        """Return the next frame, ending the iteration when the session closes."""
        try:
            return await self.get()
        except SubscriptionClosedError:
            raise StopAsyncIteration from None
