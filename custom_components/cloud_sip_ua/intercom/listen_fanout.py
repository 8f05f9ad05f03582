"""One writer per call and rate for WAV listeners: each batch is framed once and sent to all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import Protocol

from ..cloudsipua.media import AudioSubscription
from ..cloudsipua.media.clock import MediaClock, Timers
from .listen_stream import FrameBatches

_LOGGER = logging.getLogger(__name__)

# Bytes a listener may have waiting in its socket before it misses batches: about 1 s of
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


class WavListener:
    """One listener of a fan-out: its connection, and a future done when its body should end."""

    def __init__(
        self, transport: asyncio.WriteTransport, leave: Callable[[], None]
    ) -> None:
        """Send on `transport`, whose response already sent its headers and the WAV header."""
        self.transport = transport
        self._leave = leave
        # True: the call's audio ended (finish the body). False: the listener left or went away.
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.skipped = 0  # batches not sent because its socket was backed up

    def leave(self) -> None:
        """Stop sending to this listener (its handler is finishing)."""
        self._leave()


class WavFanout:
    """Sends one call's audio at one rate to every WAV listener, from one task.

    The listeners share one subscription and one `FrameBatches`: a batch costs one wake-up, one
    join and one chunk framing however many listen, and each listener one write to its socket.
    The writes go to the connections' transports, not through each response's writer: the
    writer would frame every batch again per listener and may wait for a drain, which would
    let one slow speaker hold up the rest.
    """

    def __init__(
        self,
        subscription: AudioSubscription,
        on_end: Callable[[WavFanout], None],
        clock: MediaClock | Timers | None = None,
    ) -> None:
        """Start sending `subscription`'s batches; `on_end` runs once when the fan-out stops."""
        self._subscription = subscription
        self._on_end = on_end
        self._listeners: dict[WavListener, None] = {}  # in joining order
        self.ended = False
        self._task = asyncio.get_running_loop().create_task(
            self._run(FrameBatches(subscription, clock=clock)),
            name="cloud_sip_ua listen fan-out",
        )

    @property
    def listeners(self) -> int:
        """Return how many listen."""
        return len(self._listeners)

    def add(self, transport: asyncio.WriteTransport) -> WavListener:
        """Add a listener; it gets every batch from the next one on."""
        listener: WavListener | None = None

        def leave() -> None:
            assert listener is not None  # noqa: S101 - set before anyone can call it
            self._remove(listener)

        listener = WavListener(transport, leave)
        self._listeners[listener] = None
        return listener

    async def _run(self, batches: FrameBatches) -> None:
        """Send each batch to every listener until the call's audio ends."""
        try:
            async for batch in batches:
                self._send(http_chunk(batch))
        finally:
            self._stop()
            for listener in self._listeners:
                _finish(listener, ended=True)
            self._listeners.clear()

    def _send(self, chunk: bytes) -> None:
        """Write one chunk to each listener, skipping backed-up ones and dropping gone ones."""
        gone: list[WavListener] = []
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
            self._remove(listener)

    def _remove(self, listener: WavListener) -> None:
        """Forget a listener; the fan-out stops with the last one."""
        self._listeners.pop(listener, None)
        _finish(listener, ended=False)
        if not self._listeners and not self.ended:
            # Nobody listens: no subscription and no wake-ups for nobody.
            self._stop()
            self._task.cancel()

    def _stop(self) -> None:
        """Release the subscription and tell the owner, once."""
        if self.ended:
            return
        self.ended = True
        self._subscription.close()
        self._on_end(self)


def _finish(listener: WavListener, *, ended: bool) -> None:
    """Tell a listener's handler to finish (`ended`: the call's audio ended)."""
    if not listener.done.done():
        listener.done.set_result(ended)


class WavFanouts:
    """The running fan-outs of a Home Assistant instance, one per call and rate."""

    def __init__(self, clock: MediaClock | Timers | None = None) -> None:
        """Start with none; `clock` is what ticks the calls' sessions (default: the loop's)."""
        self._clock = clock
        self._running: dict[tuple[AudioSource, int], WavFanout] = {}

    @property
    def running(self) -> int:
        """Return how many fan-outs run."""
        return len(self._running)

    def join(
        self, source: AudioSource, rate: int, transport: asyncio.WriteTransport
    ) -> WavListener:
        """Add a listener to the call's fan-out at `rate`, starting one if none runs."""
        key = (source, rate)
        fanout = self._running.get(key)
        if fanout is None or fanout.ended:

            def forget(ended: WavFanout) -> None:
                if self._running.get(key) is ended:
                    del self._running[key]

            fanout = self._running[key] = WavFanout(
                source.subscribe(rate), forget, self._clock
            )
        return fanout.add(transport)
