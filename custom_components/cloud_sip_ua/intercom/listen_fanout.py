"""One writer per call and stream kind for listeners: each chunk is made once and sent to all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import contextlib
import logging
from typing import Protocol

from ..cloudsipua.media import AudioSubscription
from ..cloudsipua.media.clock import MediaClock, Timers
from .listen_stream import FrameBatches, encode_mp3

_LOGGER = logging.getLogger(__name__)

# Bytes a listener may have waiting in its socket before it misses chunks: about 1 s of
# 16 kHz audio, and half of asyncio's default high-water mark, so one stalled speaker never
# holds the others back (nothing here waits for a drain).
MAX_BACKLOG = 32 * 1024


class AudioSource(Protocol):
    """What a fan-out reads: a call's media session."""

    def subscribe(self, sample_rate: int = 8000) -> AudioSubscription:
        """Return a new stream of the call's received audio at `sample_rate`."""


def http_chunk(data: bytes) -> bytes:
    """Return `data` as one HTTP/1.1 chunk (RFC 9112 7.1) of a chunked body."""
    return b"%x\r\n%b\r\n" % (len(data), data)


class Listener:
    """One listener of a fan-out: its connection, and a future done when its body should end."""

    def __init__(self, transport: asyncio.WriteTransport, fanout: ListenFanout) -> None:
        """Send on `transport`, whose response already sent its headers (and a WAV header)."""
        self.transport = transport
        self._fanout = fanout
        # True: the call's audio ended (finish the body). False: the listener left or went away.
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.skipped = 0  # chunks not sent because its socket was backed up

    def leave(self) -> None:
        """Stop sending to this listener (its handler is finishing)."""
        self._fanout.remove(self)


class ListenFanout:
    """Sends one stream of a call (WAV at a rate, or MP3) to every listener, from one task.

    The listeners share one subscription and whatever turns it into bytes (batching, the MP3
    encoder): a chunk costs one wake-up, one encoding and one framing however many listen, and
    each listener one write to its socket. The writes go to the connections' transports, not
    through each response's writer: the writer would frame every chunk again per listener and
    may wait for a drain, which would let one slow speaker hold up the rest.
    """

    def __init__(
        self,
        subscription: AudioSubscription,
        chunks: AsyncGenerator[bytes],
        on_end: Callable[[ListenFanout], None],
    ) -> None:
        """Start sending `chunks` (made from `subscription`); `on_end` runs once at the stop."""
        self._subscription = subscription
        self._on_end = on_end
        self._listeners: dict[Listener, None] = {}  # in joining order
        self.ended = False
        self._task = asyncio.get_running_loop().create_task(
            self._run(chunks), name="cloud_sip_ua listen fan-out"
        )

    def add(self, transport: asyncio.WriteTransport) -> Listener:
        """Add a listener; it gets every chunk from the next one on."""
        listener = Listener(transport, self)
        self._listeners[listener] = None
        return listener

    async def _run(self, chunks: AsyncGenerator[bytes]) -> None:
        """Send each chunk to every listener until the call's audio ends."""
        try:
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    self._send(http_chunk(chunk))
        except Exception:
            _LOGGER.exception("Listen stream failed")
        finally:
            self._stop()
            for listener in self._listeners:
                _finish(listener, ended=True)
            self._listeners.clear()

    def _send(self, chunk: bytes) -> None:
        """Write one chunk to each listener, skipping backed-up ones and dropping gone ones."""
        gone: list[Listener] = []
        for listener in self._listeners:
            transport = listener.transport
            if transport.is_closing():
                gone.append(listener)
            elif transport.get_write_buffer_size() > MAX_BACKLOG:
                if not listener.skipped:
                    _LOGGER.debug("A listener does not keep up; it misses audio")
                listener.skipped += 1
            else:
                transport.write(chunk)
        for listener in gone:
            self.remove(listener)

    def remove(self, listener: Listener) -> None:
        """Forget a listener; the fan-out stops with the last one."""
        self._listeners.pop(listener, None)
        _finish(listener, ended=False)
        if not self._listeners and not self.ended:
            # Nobody listens: no subscription, encoder or wake-ups for nobody.
            self._stop()
            self._task.cancel()

    def _stop(self) -> None:
        """Release the subscription and tell the owner, once."""
        if self.ended:
            return
        self.ended = True
        self._subscription.close()
        self._on_end(self)


def _finish(listener: Listener, *, ended: bool) -> None:
    """Tell a listener's handler to finish (`ended`: the call's audio ended)."""
    if not listener.done.done():
        listener.done.set_result(ended)


async def _batches(
    subscription: AudioSubscription, clock: MediaClock | Timers | None
) -> AsyncGenerator[bytes]:
    """Yield the subscription's frames in batches (a WAV stream's chunks)."""
    async for batch in FrameBatches(subscription, clock=clock):
        yield batch


class ListenFanouts:
    """The running fan-outs of a Home Assistant instance, one per call, format and rate."""

    def __init__(self, clock: MediaClock | Timers | None = None) -> None:
        """Start with none; `clock` is what ticks the calls' sessions (default: the loop's)."""
        self._clock = clock
        self._running: dict[tuple[AudioSource, str, int], ListenFanout] = {}

    @property
    def running(self) -> int:
        """Return how many fan-outs run."""
        return len(self._running)

    def join(
        self,
        source: AudioSource,
        fmt: str,
        rate: int,
        transport: asyncio.WriteTransport,
        ffmpeg: str = "ffmpeg",
    ) -> Listener:
        """Add a listener to the call's `fmt` ("wav" or "mp3", encoded by `ffmpeg`) fan-out."""
        key = (source, fmt, rate)
        fanout = self._running.get(key)
        if fanout is None or fanout.ended:

            def forget(ended: ListenFanout) -> None:
                if self._running.get(key) is ended:
                    del self._running[key]

            subscription = source.subscribe(rate)
            chunks = (
                encode_mp3(subscription, rate, ffmpeg)
                if fmt == "mp3"
                else _batches(subscription, self._clock)
            )
            fanout = self._running[key] = ListenFanout(subscription, chunks, forget)
        return fanout.add(transport)
